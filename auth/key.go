package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// Algorithm names, as they appear in a token's "alg" header.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// minRSABits is the smallest RSA modulus accepted for RS256.
const minRSABits = 2048

// loadPublicKey reads a PEM public key and returns it with the one
// algorithm it implies.
func loadPublicKey(path string) (key any, alg string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: read public key: %w", ErrInvalidConfig, err)
	}
	key, alg, err = parsePublicKeyPEM(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w: public key %s: %w", ErrInvalidConfig, path, err)
	}
	return key, alg, nil
}

func parsePublicKeyPEM(data []byte) (any, string, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", fmt.Errorf("no PEM block found")
	}
	var (
		pub any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, "", err
	}
	return keyAlgorithm(pub)
}

// keyAlgorithm returns the algorithm a public key implies, rejecting keys
// too weak or of curves the JWS algorithms do not pair with.
func keyAlgorithm(pub any) (any, string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, "", fmt.Errorf("RSA key is %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		return k, RS256, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "", fmt.Errorf("ECDSA key on %s, want P-256 (ES256)", k.Curve.Params().Name)
		}
		return k, ES256, nil
	case ed25519.PublicKey:
		return k, EdDSA, nil
	default:
		return nil, "", fmt.Errorf("unsupported public key type %T", pub)
	}
}
