package auth

import (
	"errors"
	"testing"
	"time"
)

func TestMint(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		user    string
		ttl     time.Duration
		wantErr bool
	}{
		{"valid arguments mint a token", testSecret(), "alice", time.Hour, false},
		{"short secret is refused", []byte("short"), "alice", time.Hour, true},
		{"empty user is refused", testSecret(), "", time.Hour, true},
		{"control character in user is refused", testSecret(), "a\tb", time.Hour, true},
		{"zero ttl is refused", testSecret(), "alice", 0, true},
	}
	v := newTestVerifier(t, Config{Secret: testSecret(), Issuer: testIssuer, Audience: testAudience})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Mint(tt.secret, tt.user, tt.ttl, testIssuer, testAudience, testNow)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) || tok != "" {
					t.Fatalf("Mint = %q, %v; want ErrInvalidConfig", tok, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sub, err := v.Verify(tok); err != nil || sub != tt.user {
				t.Fatalf("Verify = %q, %v", sub, err)
			}
		})
	}
}

func TestMintedTokenExpiresAfterTTL(t *testing.T) {
	tok, err := Mint(testSecret(), "alice", time.Minute, "", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	later := testNow.Add(time.Minute + DefaultLeeway + time.Second)
	v := newTestVerifier(t, Config{Secret: testSecret(), Now: func() time.Time { return later }})
	if _, err := v.Verify(tok); !errors.Is(err, errExpired) {
		t.Fatalf("Verify after ttl = %v, want expired", err)
	}
}

func TestMintWithRefusesUnknownAlgorithms(t *testing.T) {
	for _, alg := range []string{"none", "HS512", "PS256", ""} {
		if tok, err := MintWith(testSecret(), alg, baseClaims()); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("MintWith %q = %q, %v; want ErrInvalidConfig", alg, tok, err)
		}
	}
	if _, err := MintWith("not a key", RS256, baseClaims()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("MintWith wrong key type: %v", err)
	}
}
