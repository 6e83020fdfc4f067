package auth

import (
	"fmt"
	"time"
)

// MinSecretLen is the shortest HS256 secret accepted, in bytes: HS256 keys
// shorter than the hash output (RFC 7518 §3.2) are guessable.
const MinSecretLen = 32

// DefaultLeeway is the clock skew tolerated when Config.Leeway is zero.
const DefaultLeeway = 30 * time.Second

// Config says which tokens a Verifier accepts. Exactly one of Secret and
// PublicKeyFile is set.
type Config struct {
	// Secret is the shared HS256 key, at least MinSecretLen bytes.
	Secret []byte
	// PublicKeyFile is a PEM file holding one public key: RSA (RS256, at
	// least 2048 bits), ECDSA P-256 (ES256) or Ed25519 (EdDSA). Blocks of
	// type "PUBLIC KEY" (PKIX) and "RSA PUBLIC KEY" (PKCS #1) are read.
	PublicKeyFile string
	// Issuer, when set, must equal the token's "iss" claim.
	Issuer string
	// Audience, when set, must be one of the token's "aud" values.
	Audience string
	// Leeway is the clock skew tolerated on exp, nbf and iat. Zero selects
	// DefaultLeeway; negative is invalid.
	Leeway time.Duration
	// Now is the clock; nil selects time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that cannot verify tokens safely. Errors
// wrap ErrInvalidConfig. It does not read PublicKeyFile; NewVerifier does.
func (c Config) Validate() error {
	switch {
	case len(c.Secret) > 0 && c.PublicKeyFile != "":
		return fmt.Errorf("%w: set either Secret or PublicKeyFile, not both", ErrInvalidConfig)
	case len(c.Secret) == 0 && c.PublicKeyFile == "":
		return fmt.Errorf("%w: set Secret or PublicKeyFile", ErrInvalidConfig)
	case c.PublicKeyFile == "" && len(c.Secret) < MinSecretLen:
		return fmt.Errorf("%w: HS256 secret is %d bytes, want at least %d", ErrInvalidConfig, len(c.Secret), MinSecretLen)
	case c.Leeway < 0:
		return fmt.Errorf("%w: negative leeway %v", ErrInvalidConfig, c.Leeway)
	}
	return nil
}
