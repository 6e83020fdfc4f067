package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/playlog/playlog/internal/lru"
	"github.com/playlog/playlog/internal/userid"
)

// MaxUserIDLen is the longest subject accepted as a user id, in bytes.
// It leaves room for the "/" and a 64-byte message id in the stored message
// id (eventstore.MaxMessageIDLen, 128), so it equals play.MaxActorLen.
const MaxUserIDLen = userid.MaxLen

// Verifier checks tokens against one key. It is safe for concurrent use.
//
// It remembers the tokens it accepted lately (their exact bytes, so their
// signatures too) with their time claims: a client presents one token for
// a REST call and again for each WebSocket it opens, and a signature check
// costs up to 100 µs (Ed25519). A remembered token is accepted again only
// while its exp, nbf and iat still allow it now, by the same leeway; any
// doubt is a full check, which also says why a token fails.
type Verifier struct {
	key      any    // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	alg      string // the only algorithm accepted, implied by key
	cfg      Config
	parser   *jwt.Parser
	accepted *lru.Cache[string, acceptedToken]
}

// acceptedToken is what Verify found in a token it accepted.
type acceptedToken struct {
	sub           string
	exp, nbf, iat time.Time // nbf, iat: zero when absent
}

// Remembering accepted tokens: how many, and the longest remembered.
const (
	acceptedTokens   = 4096
	acceptedTokenLen = 1024
)

// NewVerifier validates cfg, loads its key (reading PublicKeyFile once) and
// returns a Verifier. Errors wrap ErrInvalidConfig.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, accepted: lru.New[string, acceptedToken](acceptedTokens)}
	if cfg.PublicKeyFile != "" {
		key, alg, err := loadPublicKey(cfg.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.key, v.alg = key, alg
	} else {
		v.key, v.alg = bytes.Clone(cfg.Secret), HS256
		v.cfg.Secret = nil // held once, in v.key
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{v.alg}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Algorithm returns the one "alg" this Verifier accepts.
func (v *Verifier) Algorithm() string { return v.alg }

// Verify checks token and returns the user id it carries (its subject).
// Every error wraps ErrUnauthenticated and says why, without echoing the
// token.
func (v *Verifier) Verify(token string) (userID string, err error) {
	a, err := v.verify(token)
	return a.sub, err
}

// verify is Verify returning what the token claims.
func (v *Verifier) verify(token string) (acceptedToken, error) {
	if a, ok := v.accepted.Get(token); ok && v.stillValid(a) {
		return a, nil
	}
	var claims jwt.RegisteredClaims
	t, err := v.parser.ParseWithClaims(token, &claims, v.keyFunc)
	if err != nil {
		return acceptedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, v.reason(err, t, &claims))
	}
	if err := checkUserID(claims.Subject); err != nil {
		return acceptedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if err := numericDates(t); err != nil {
		return acceptedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	a := acceptedToken{sub: claims.Subject, exp: claims.ExpiresAt.Time}
	if claims.NotBefore != nil {
		a.nbf = claims.NotBefore.Time
	}
	if claims.IssuedAt != nil {
		a.iat = claims.IssuedAt.Time
	}
	if len(token) <= acceptedTokenLen {
		v.accepted.Add(token, a)
	}
	return a, nil
}

// numericDates refuses exp, nbf or iat written as anything but a JSON
// number (RFC 7519's NumericDate): the jwt library also reads a string
// holding digits, which another verifier of the same token would refuse.
func numericDates(t *jwt.Token) error {
	parts := strings.Split(t.Raw, ".")
	if len(parts) != 3 {
		return errors.New("malformed token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("malformed token payload")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return errors.New("malformed token payload")
	}
	for _, claim := range []string{"exp", "nbf", "iat"} {
		if v, ok := raw[claim]; ok && (len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))) {
			return fmt.Errorf("claim %s must be a number of seconds (a NumericDate), not %.20s", claim, v)
		}
	}
	return nil
}

// stillValid applies the parser's time checks to a token accepted before:
// now before exp plus the leeway, and not before nbf or iat less it.
func (v *Verifier) stillValid(a acceptedToken) bool {
	now := v.cfg.Now()
	later := now.Add(v.cfg.Leeway)
	return now.Before(a.exp.Add(v.cfg.Leeway)) && !later.Before(a.nbf) && !later.Before(a.iat)
}

// keyFunc hands out the key only for the expected signing method type and
// name; WithValidMethods has already checked the name, this is the second
// lock.
func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	var ok bool
	switch v.alg {
	case HS256:
		_, ok = t.Method.(*jwt.SigningMethodHMAC)
	case RS256:
		_, ok = t.Method.(*jwt.SigningMethodRSA)
	case ES256:
		_, ok = t.Method.(*jwt.SigningMethodECDSA)
	case EdDSA:
		_, ok = t.Method.(*jwt.SigningMethodEd25519)
	}
	if !ok || t.Method.Alg() != v.alg {
		return nil, errUnexpectedAlg
	}
	return v.key, nil
}

// reason maps a jwt error to one of this package's reasons. Claim errors
// are joined by jwt; the first matching reason below wins.
func (v *Verifier) reason(err error, t *jwt.Token, c *jwt.RegisteredClaims) error {
	unexpected := fmt.Errorf("%w (want %s)", errUnexpectedAlg, v.alg)
	switch {
	case errors.Is(err, errUnexpectedAlg):
		return unexpected
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// "alg" missing or naming an algorithm jwt does not know.
		return unexpected
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// WithValidMethods reports a foreign alg as a signature error.
		if t != nil && t.Method != nil && t.Method.Alg() != v.alg {
			return unexpected
		}
		return errBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errIssuedInFuture
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errWrongAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case c.ExpiresAt == nil:
			return errMissingExpiry
		case v.cfg.Issuer != "" && c.Issuer == "":
			return fmt.Errorf("%w: token has no iss", errWrongIssuer)
		default:
			return fmt.Errorf("%w: token has no aud", errWrongAudience)
		}
	}
	return errMalformed
}

// checkUserID enforces the user id rules (package userid) on a subject.
func checkUserID(sub string) error {
	if sub == "" {
		return errMissingSubject
	}
	if err := userid.Check(sub); err != nil {
		return fmt.Errorf("%w: %v", errInvalidSubject, err)
	}
	return nil
}
