package auth

import (
	"crypto"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Mint returns an HS256 token for userID, issued at now and valid for ttl,
// that a Verifier configured with the same secret, issuer and audience
// accepts. Empty issuer or audience leave the claim out. It is meant for
// development and tests. Errors wrap ErrInvalidConfig.
func Mint(secret []byte, userID string, ttl time.Duration, issuer, audience string, now time.Time) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("%w: HS256 secret is %d bytes, want at least %d", ErrInvalidConfig, len(secret), MinSecretLen)
	}
	if err := checkUserID(userID); err != nil {
		return "", fmt.Errorf("%w: user id: %w", ErrInvalidConfig, err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: ttl %v is not positive", ErrInvalidConfig, ttl)
	}
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		Issuer:    issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	if audience != "" {
		claims.Audience = jwt.ClaimStrings{audience}
	}
	return MintWith(secret, HS256, claims)
}

// MintWith signs claims exactly as given (no checks on them) with key under
// alg, one of HS256 ([]byte key), RS256 (*rsa.PrivateKey), ES256
// (*ecdsa.PrivateKey) or EdDSA (ed25519.PrivateKey). It exists so tests can
// build tokens of every kind, including invalid ones. Errors wrap
// ErrInvalidConfig.
func MintWith(key crypto.PrivateKey, alg string, claims jwt.RegisteredClaims) (string, error) {
	var m jwt.SigningMethod
	switch alg {
	case HS256:
		m = jwt.SigningMethodHS256
	case RS256:
		m = jwt.SigningMethodRS256
	case ES256:
		m = jwt.SigningMethodES256
	case EdDSA:
		m = jwt.SigningMethodEdDSA
	default:
		return "", fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidConfig, alg)
	}
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("%w: sign %s: %w", ErrInvalidConfig, alg, err)
	}
	return s, nil
}
