package auth

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow is the injected clock of every test; it is far from the real
// time, so a test passing proves the real clock was not consulted.
var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testIssuer   = "playlog-test"
	testAudience = "playlog"
)

func testSecret() []byte { return []byte("0123456789abcdef0123456789abcdef-test") }

func fixedClock() time.Time { return testNow }

// baseClaims are valid for an hour from testNow, for testIssuer and
// testAudience.
func baseClaims() jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Subject:   "alice",
		Issuer:    testIssuer,
		Audience:  jwt.ClaimStrings{testAudience},
		IssuedAt:  jwt.NewNumericDate(testNow),
		ExpiresAt: jwt.NewNumericDate(testNow.Add(time.Hour)),
	}
}

func at(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(testNow.Add(d)) }

func newTestVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedClock
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func mintWith(t testing.TB, key crypto.PrivateKey, alg string, c jwt.RegisteredClaims) string {
	t.Helper()
	s, err := MintWith(key, alg, c)
	if err != nil {
		t.Fatalf("MintWith %s: %v", alg, err)
	}
	return s
}

// writePEM writes the PKIX PEM encoding of pub to a temporary file and
// returns its path and contents.
func writePEM(t testing.TB, pub crypto.PublicKey) (string, []byte) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func writeFile(t testing.TB, data []byte) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// handToken assembles a token from raw parts, without any signing library.
func handToken(t *testing.T, header, claims any, sig string) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return seg(header) + "." + seg(claims) + "." + sig
}
