package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"secret alone is valid", Config{Secret: testSecret()}, false},
		{"key file alone is valid", Config{PublicKeyFile: "key.pem"}, false},
		{"neither secret nor key is invalid", Config{}, true},
		{"both secret and key are invalid", Config{Secret: testSecret(), PublicKeyFile: "key.pem"}, true},
		{"31-byte secret is invalid", Config{Secret: make([]byte, 31)}, true},
		{"32-byte secret is valid", Config{Secret: make([]byte, 32)}, false},
		{"negative leeway is invalid", Config{Secret: testSecret(), Leeway: -time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	if c.Leeway != DefaultLeeway || c.Now == nil {
		t.Fatalf("defaults: leeway %v, now set %v", c.Leeway, c.Now != nil)
	}
}

func TestNewVerifierRejectsBadKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	path := func(f func(t *testing.T) string) func(t *testing.T) string { return f }
	tests := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"missing file", path(func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.pem") })},
		{"file without PEM", path(func(t *testing.T) string { p, _ := writeFile(t, []byte("not a key")); return p })},
		{"private key instead of public key", path(func(t *testing.T) string {
			p, _ := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
			return p
		})},
		{"corrupt public key block", path(func(t *testing.T) string {
			p, _ := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}))
			return p
		})},
		{"RSA key under 2048 bits", path(func(t *testing.T) string { p, _ := writePEM(t, &small.PublicKey); return p })},
		{"ECDSA key on P-384", path(func(t *testing.T) string { p, _ := writePEM(t, &p384.PublicKey); return p })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(Config{PublicKeyFile: tt.path(t)})
			if err == nil || v != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewVerifier = %v, %v; want ErrInvalidConfig", v, err)
			}
		})
	}
}

func TestNewVerifierReadsPKCS1RSAKey(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
	v := newTestVerifier(t, Config{PublicKeyFile: p})
	if sub, err := v.Verify(mintWith(t, k, RS256, baseClaims())); err != nil || sub != "alice" {
		t.Fatalf("Verify = %q, %v", sub, err)
	}
}

func TestNewVerifierCopiesSecret(t *testing.T) {
	secret := testSecret()
	v := newTestVerifier(t, Config{Secret: secret})
	tok := mintWith(t, testSecret(), HS256, baseClaims())
	secret[0] ^= 0xff
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("changing the caller's slice changed the verifier: %v", err)
	}
}
