package auth

import "errors"

// ErrUnauthenticated is wrapped by every error from [Verifier.Verify] and
// [TokenFromRequest]: the request cannot be tied to a user.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrInvalidConfig is wrapped by every error from [Config.Validate],
// [NewVerifier], [Mint] and [MintWith] caused by bad settings or arguments.
var ErrInvalidConfig = errors.New("invalid auth config")

// Reasons wrapped next to ErrUnauthenticated. They are unexported: callers
// branch on ErrUnauthenticated only and show the message; the package's own
// tests use them to check that each rejection happens for the right reason.
var (
	errMalformed       = errors.New("malformed token")
	errUnexpectedAlg   = errors.New("unexpected signing algorithm")
	errBadSignature    = errors.New("bad signature")
	errExpired         = errors.New("token expired")
	errMissingExpiry   = errors.New("token has no expiry (exp)")
	errNotYetValid     = errors.New("token not yet valid")
	errIssuedInFuture  = errors.New("token issued in the future")
	errWrongIssuer     = errors.New("wrong issuer")
	errWrongAudience   = errors.New("wrong audience")
	errMissingSubject  = errors.New("missing subject")
	errInvalidSubject  = errors.New("invalid subject")
	errNoToken         = errors.New("no bearer token")
	errBadScheme       = errors.New("authorization scheme is not Bearer")
	errAmbiguousTokens = errors.New("more than one access_token")
	errQueryToken      = errors.New("the access_token query parameter is only for WebSocket handshakes: send the token in the Authorization header")
)
