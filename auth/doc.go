// Package auth tells the server who a request comes from: it verifies a
// JSON Web Token (RFC 7519) and returns the user id it names.
//
// # Where the token comes from
//
// Clients send "Authorization: Bearer <token>". Browsers cannot set headers
// on a WebSocket handshake, so on a handshake (a GET with "Upgrade:
// websocket" and "Connection: Upgrade") the token may instead travel in
// the access_token query parameter. [TokenFromRequest] looks at the header
// first and falls back to the query parameter only when there is no
// Authorization header at all. Any other request carrying access_token is
// refused, even beside a good header: a token in a URL ends up in logs and
// histories, and such a request can use the header. Since the rule is
// decided here, every caller (REST and WebSocket alike) calls
// [Verifier.Authenticate] and gets it.
//
// # What is verified
//
// [Verifier.Verify] accepts a token only when all of these hold:
//
//   - it is a compact JWS (three base64url segments, strictly decoded, so
//     each token has exactly one accepted spelling);
//   - its signature verifies with the configured key, under the one
//     algorithm that key implies (see below);
//   - it carries "exp" and has not expired; "nbf" and "iat", when present,
//     are not in the future; all three are compared with the injected clock
//     [Config.Now] and tolerate [Config.Leeway] of clock skew;
//   - "iss" equals [Config.Issuer] and "aud" contains [Config.Audience],
//     when those are configured (a token without the claim is rejected);
//   - "sub" is present, non-empty, at most [MaxUserIDLen] bytes of valid
//     UTF-8 and printable (no control or format characters).
//
// User ids are the JWT subject: whatever issued the token decides who the
// user is, and playlog records that string as the actor of the user's
// commands.
//
// # Algorithm pinning
//
// A Verifier is built from exactly one key, and the key decides the single
// algorithm it accepts: a shared secret means HS256, an RSA public key
// RS256, an ECDSA P-256 public key ES256, an Ed25519 public key EdDSA. The
// token's "alg" header is never trusted to choose: a token naming any other
// algorithm (including "none") is rejected before its signature is looked
// at, and the key function also checks the Go type of the token's signing
// method. This closes algorithm confusion, such as an HS256 token whose
// HMAC secret is the server's published RSA public key.
//
// # Errors
//
// Every verification failure wraps the one sentinel [ErrUnauthenticated]
// with a short reason (expired, not yet valid, bad signature, wrong issuer,
// ...). Messages never contain the token or any part of it. Bad
// configuration is reported as [ErrInvalidConfig].
//
// [Mint] and [MintWith] create tokens for development and tests; production
// tokens come from an identity provider.
package auth
