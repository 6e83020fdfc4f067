package auth

import (
	"errors"
	"testing"
	"time"
)

// FuzzVerify checks that Verify never panics, that every rejection wraps
// ErrUnauthenticated, and that the only string it accepts is the one token
// minted with the secret.
func FuzzVerify(f *testing.F) {
	v, err := NewVerifier(Config{Secret: testSecret(), Issuer: testIssuer, Audience: testAudience, Now: fixedClock})
	if err != nil {
		f.Fatal(err)
	}
	valid, err := Mint(testSecret(), "alice", time.Hour, testIssuer, testAudience, testNow)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		valid, valid[:len(valid)-1], valid + "A", valid + ".", "", ".", "..", "a.b", "a.b.c", "garbage",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTkwMDAwMDAwMH0.",
		"eyJhbGciOiJIUzI1NiJ9.e30.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		sub, err := v.Verify(token)
		if err != nil {
			if sub != "" || !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Verify = %q, %v", sub, err)
			}
			return
		}
		if token != valid || sub != "alice" {
			t.Fatalf("Verify accepted a token it did not mint: %q as %q", token, sub)
		}
	})
}
