package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/playlog/playlog/internal/lru"
)

func TestVerifyHS256(t *testing.T) {
	secret := testSecret()
	v := newTestVerifier(t, Config{Secret: secret, Issuer: testIssuer, Audience: testAudience})
	hs := func(edit func(*jwt.RegisteredClaims)) func(*testing.T) string {
		return func(t *testing.T) string {
			c := baseClaims()
			if edit != nil {
				edit(&c)
			}
			return mintWith(t, secret, HS256, c)
		}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   func(t *testing.T) string
		wantErr error // nil: accepted as alice
		wantSub string
	}{
		{"valid token is accepted", hs(nil), nil, "alice"},
		{"minted token is accepted", func(t *testing.T) string {
			s, err := Mint(secret, "bob", time.Hour, testIssuer, testAudience, testNow)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, nil, "bob"},
		{"subject of exactly 60 bytes is accepted", hs(func(c *jwt.RegisteredClaims) { c.Subject = strings.Repeat("u", 60) }), nil, strings.Repeat("u", 60)},
		{"non-ASCII printable subject is accepted", hs(func(c *jwt.RegisteredClaims) { c.Subject = "zoë 名前" }), nil, "zoë 名前"},
		{"audience among several is accepted", hs(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other", testAudience} }), nil, "alice"},
		{"expired token is rejected", hs(func(c *jwt.RegisteredClaims) { c.ExpiresAt = at(-time.Minute) }), errExpired, ""},
		{"token expired within the leeway is accepted", hs(func(c *jwt.RegisteredClaims) { c.ExpiresAt = at(-29 * time.Second) }), nil, "alice"},
		{"token expired just beyond the leeway is rejected", hs(func(c *jwt.RegisteredClaims) { c.ExpiresAt = at(-31 * time.Second) }), errExpired, ""},
		{"nbf in the future is rejected", hs(func(c *jwt.RegisteredClaims) { c.NotBefore = at(time.Minute) }), errNotYetValid, ""},
		{"nbf in the future within the leeway is accepted", hs(func(c *jwt.RegisteredClaims) { c.NotBefore = at(20 * time.Second) }), nil, "alice"},
		{"nbf in the future just beyond the leeway is rejected", hs(func(c *jwt.RegisteredClaims) { c.NotBefore = at(31 * time.Second) }), errNotYetValid, ""},
		{"iat in the future is rejected", hs(func(c *jwt.RegisteredClaims) { c.IssuedAt = at(time.Minute) }), errIssuedInFuture, ""},
		{"iat in the future within the leeway is accepted", hs(func(c *jwt.RegisteredClaims) { c.IssuedAt = at(29 * time.Second) }), nil, "alice"},
		{"iat in the future just beyond the leeway is rejected", hs(func(c *jwt.RegisteredClaims) { c.IssuedAt = at(31 * time.Second) }), errIssuedInFuture, ""},
		{"missing exp is rejected", hs(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }), errMissingExpiry, ""},
		{"wrong secret is rejected", func(t *testing.T) string {
			return mintWith(t, []byte("another-secret-another-secret-another"), HS256, baseClaims())
		}, errBadSignature, ""},
		{"tampered payload is rejected", func(t *testing.T) string {
			good := strings.Split(hs(nil)(t), ".")
			c := baseClaims()
			c.Subject = "mallory"
			evil := strings.Split(mintWith(t, []byte("irrelevant"), HS256, c), ".")
			return good[0] + "." + evil[1] + "." + good[2]
		}, errBadSignature, ""},
		{"tampered signature is rejected", func(t *testing.T) string {
			s := hs(nil)(t)
			i := len(s) - 10
			b := []byte(s)
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			return string(b)
		}, errBadSignature, ""},
		{"non-canonical base64 spelling of a valid signature is malformed", func(t *testing.T) string {
			// 32 signature bytes fill 43 characters with 2 bits to spare; a
			// lenient decoder maps this variant to the same signature.
			s := []byte(hs(nil)(t))
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			i := strings.IndexByte(alphabet, s[len(s)-1])
			s[len(s)-1] = alphabet[i^1]
			return string(s)
		}, errMalformed, ""},
		{"alg none is rejected", func(t *testing.T) string {
			return handToken(t, map[string]string{"alg": "none", "typ": "JWT"}, baseClaims(), "")
		}, errUnexpectedAlg, ""},
		{"alg None is rejected", func(t *testing.T) string {
			return handToken(t, map[string]string{"alg": "None", "typ": "JWT"}, baseClaims(), "")
		}, errUnexpectedAlg, ""},
		{"missing alg is rejected", func(t *testing.T) string {
			return handToken(t, map[string]string{"typ": "JWT"}, baseClaims(), "")
		}, errUnexpectedAlg, ""},
		{"HS512 with the right secret is rejected", func(t *testing.T) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS512, baseClaims()).SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, errUnexpectedAlg, ""},
		{"RS256 token is rejected", func(t *testing.T) string {
			return mintWith(t, rsaKey, RS256, baseClaims())
		}, errUnexpectedAlg, ""},
		{"wrong issuer is rejected", hs(func(c *jwt.RegisteredClaims) { c.Issuer = "evil" }), errWrongIssuer, ""},
		{"missing issuer is rejected", hs(func(c *jwt.RegisteredClaims) { c.Issuer = "" }), errWrongIssuer, ""},
		{"wrong audience is rejected", hs(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other"} }), errWrongAudience, ""},
		{"missing audience is rejected", hs(func(c *jwt.RegisteredClaims) { c.Audience = nil }), errWrongAudience, ""},
		{"missing subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "" }), errMissingSubject, ""},
		{"subject over 60 bytes is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = strings.Repeat("u", 61) }), errInvalidSubject, ""},
		{"NUL in subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "al\x00ice" }), errInvalidSubject, ""},
		{"slash in subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "system/timeout" }), errInvalidSubject, ""},
		{"newline in subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "alice\n" }), errInvalidSubject, ""},
		{"escape sequence in subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "\x1b[31malice" }), errInvalidSubject, ""},
		{"bidi override in subject is rejected", hs(func(c *jwt.RegisteredClaims) { c.Subject = "alice\u202e" }), errInvalidSubject, ""},
		{"empty string is malformed", func(*testing.T) string { return "" }, errMalformed, ""},
		{"two segments are malformed", func(*testing.T) string { return "a.b" }, errMalformed, ""},
		{"four segments are malformed", func(t *testing.T) string { return hs(nil)(t) + ".x" }, errMalformed, ""},
		{"garbage is malformed", func(*testing.T) string { return "garbage" }, errMalformed, ""},
		{"non-base64 segments are malformed", func(*testing.T) string { return "a!.b!.c!" }, errMalformed, ""},
		{"non-JSON header is malformed", func(*testing.T) string { return "YWJj.YWJj.YWJj" }, errMalformed, ""},
		{"string exp is malformed", func(t *testing.T) string {
			return handToken(t, map[string]string{"alg": "HS256"}, map[string]any{"sub": "alice", "exp": "tomorrow"}, "")
		}, errMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			sub, err := v.Verify(tok)
			if tt.wantSub != "" {
				if err != nil || sub != tt.wantSub {
					t.Fatalf("Verify = %q, %v; want %q", sub, err, tt.wantSub)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token as %q", sub)
			}
			if sub != "" {
				t.Errorf("Verify returned user %q with an error", sub)
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("error %v does not wrap ErrUnauthenticated", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q, want reason %q", err, tt.wantErr)
			}
			for _, part := range append(strings.Split(tok, "."), tok) {
				if len(part) > 4 && strings.Contains(err.Error(), part) {
					t.Errorf("error %q echoes the token", err)
				}
			}
		})
	}
}

func TestVerifyWithoutIssuerOrAudienceIgnoresThem(t *testing.T) {
	v := newTestVerifier(t, Config{Secret: testSecret()})
	c := baseClaims()
	c.Issuer, c.Audience = "anyone", jwt.ClaimStrings{"anything"}
	for name, claims := range map[string]jwt.RegisteredClaims{"present": c, "absent": {Subject: "alice", ExpiresAt: at(time.Hour)}} {
		t.Run(name, func(t *testing.T) {
			if sub, err := v.Verify(mintWith(t, testSecret(), HS256, claims)); err != nil || sub != "alice" {
				t.Fatalf("Verify = %q, %v", sub, err)
			}
		})
	}
}

func TestVerifyUsesInjectedClock(t *testing.T) {
	tok := mintWith(t, testSecret(), HS256, baseClaims())
	now := testNow.Add(2 * time.Hour)
	v := newTestVerifier(t, Config{Secret: testSecret(), Now: func() time.Time { return now }})
	if _, err := v.Verify(tok); !errors.Is(err, errExpired) {
		t.Fatalf("two hours later: %v, want expired", err)
	}
	now = testNow
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("back at issue time: %v", err)
	}
}

func TestVerifyLeewayIsConfigurable(t *testing.T) {
	c := baseClaims()
	c.ExpiresAt = at(-90 * time.Second)
	tok := mintWith(t, testSecret(), HS256, c)
	if _, err := newTestVerifier(t, Config{Secret: testSecret()}).Verify(tok); !errors.Is(err, errExpired) {
		t.Fatalf("default leeway: %v, want expired", err)
	}
	if _, err := newTestVerifier(t, Config{Secret: testSecret(), Leeway: 2 * time.Minute}).Verify(tok); err != nil {
		t.Fatalf("2m leeway: %v", err)
	}
}

// asymmetric is one public-key algorithm under test.
type asymmetric struct {
	alg    string
	gen    func(t testing.TB) (priv any, pub any)
	family string
}

func asymmetricAlgs() []asymmetric {
	return []asymmetric{
		{RS256, func(t testing.TB) (any, any) {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			return k, &k.PublicKey
		}, "rsa"},
		{ES256, func(t testing.TB) (any, any) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return k, &k.PublicKey
		}, "ecdsa"},
		{EdDSA, func(t testing.TB) (any, any) {
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return priv, pub
		}, "ed25519"},
	}
}

func TestVerifyPublicKeys(t *testing.T) {
	algs := asymmetricAlgs()
	type keyPair struct{ priv, pub any }
	keys := map[string]keyPair{}
	for _, a := range algs {
		priv, pub := a.gen(t)
		keys[a.alg] = keyPair{priv, pub}
	}
	for _, a := range algs {
		t.Run(a.alg, func(t *testing.T) {
			path, pemBytes := writePEM(t, keys[a.alg].pub)
			v := newTestVerifier(t, Config{PublicKeyFile: path, Issuer: testIssuer, Audience: testAudience})
			if v.Algorithm() != a.alg {
				t.Fatalf("Algorithm() = %s, want %s", v.Algorithm(), a.alg)
			}
			otherPriv, _ := a.gen(t)
			tests := []struct {
				name    string
				token   string
				wantErr error
			}{
				{"valid token is accepted", mintWith(t, keys[a.alg].priv, a.alg, baseClaims()), nil},
				{"token signed by another key is rejected", mintWith(t, otherPriv, a.alg, baseClaims()), errBadSignature},
				{"HS256 token keyed with the PEM public key is rejected", mintWith(t, pemBytes, HS256, baseClaims()), errUnexpectedAlg},
				{"alg none is rejected", handToken(t, map[string]string{"alg": "none", "typ": "JWT"}, baseClaims(), ""), errUnexpectedAlg},
			}
			for _, other := range algs {
				if other.alg != a.alg {
					tests = append(tests, struct {
						name    string
						token   string
						wantErr error
					}{other.alg + " token is rejected", mintWith(t, keys[other.alg].priv, other.alg, baseClaims()), errUnexpectedAlg})
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sub, err := v.Verify(tt.token)
					if tt.wantErr == nil {
						if err != nil || sub != "alice" {
							t.Fatalf("Verify = %q, %v; want alice", sub, err)
						}
						return
					}
					if !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, tt.wantErr) {
						t.Fatalf("Verify = %q, %v; want %v", sub, err, tt.wantErr)
					}
				})
			}
		})
	}
}

// TestKeyFuncChecksMethodType proves the second lock holds on its own:
// even if the name check were bypassed, a method of the wrong type gets no
// key.
func TestKeyFuncChecksMethodType(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := writePEM(t, &k.PublicKey)
	v := newTestVerifier(t, Config{PublicKeyFile: path})
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodNone, jwt.SigningMethodPS256, jwt.SigningMethodRS512, jwt.SigningMethodES256} {
		if key, err := v.keyFunc(&jwt.Token{Method: m}); key != nil || !errors.Is(err, errUnexpectedAlg) {
			t.Errorf("%s: keyFunc = %v, %v; want no key", m.Alg(), key, err)
		}
	}
	if key, err := v.keyFunc(&jwt.Token{Method: jwt.SigningMethodRS256}); key == nil || err != nil {
		t.Errorf("RS256: keyFunc = %v, %v; want the key", key, err)
	}
}

// TestAcceptedTokensStillExpire: a token accepted before is accepted again
// only while its time claims allow it now, as a full check would, and a
// token is remembered only once accepted.
func TestAcceptedTokensStillExpire(t *testing.T) {
	now := testNow
	v := newTestVerifier(t, Config{Secret: testSecret(), Now: func() time.Time { return now }})
	c := baseClaims()
	c.NotBefore = at(25 * time.Second) // accepted at testNow, by the leeway
	tok := mintWith(t, testSecret(), HS256, c)
	for _, step := range []struct {
		at   time.Duration
		want error
	}{
		{0, nil},
		{time.Hour + 29*time.Second, nil},
		{time.Hour + 31*time.Second, errExpired},
		{-10 * time.Second, errNotYetValid}, // the clock stepped back
		{time.Minute, nil},
	} {
		now = testNow.Add(step.at)
		sub, err := v.Verify(tok)
		if !errors.Is(err, step.want) || step.want == nil && (err != nil || sub != "alice") {
			t.Fatalf("at %v: %q, %v; want %v", step.at, sub, err, step.want)
		}
	}
	if n := v.accepted.Len(); n != 1 {
		t.Fatalf("%d tokens remembered, want 1", n)
	}
	bad := mintWith(t, []byte("another secret, also 32 bytes long"), HS256, baseClaims())
	if _, err := v.Verify(bad); !errors.Is(err, errBadSignature) {
		t.Fatalf("a token signed with another key: %v", err)
	}
	long := baseClaims()
	long.ID = strings.Repeat("j", acceptedTokenLen)
	if _, err := v.Verify(mintWith(t, testSecret(), HS256, long)); err != nil {
		t.Fatal(err)
	}
	if n := v.accepted.Len(); n != 1 {
		t.Fatalf("%d tokens remembered after a refused and a long one, want 1", n)
	}
}

// BenchmarkVerify: a token's first check beside checks of a token
// accepted before, per algorithm.
func BenchmarkVerify(b *testing.B) {
	for _, a := range append([]asymmetric{{alg: HS256}}, asymmetricAlgs()...) {
		v := newTestVerifier(b, Config{Secret: testSecret()})
		tok := mintWith(b, testSecret(), HS256, baseClaims())
		if a.alg != HS256 {
			priv, pub := a.gen(b)
			path, _ := writePEM(b, pub)
			v = newTestVerifier(b, Config{PublicKeyFile: path})
			tok = mintWith(b, priv, a.alg, baseClaims())
		}
		b.Run(a.alg+"/first", func(b *testing.B) {
			for b.Loop() {
				v.accepted = lru.New[string, acceptedToken](acceptedTokens)
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(a.alg+"/again", func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// exp, nbf and iat are NumericDates (RFC 7519): JSON numbers. The jwt
// library also reads a string of digits, which other verifiers of the
// same token refuse; so does this one.
func TestTimeClaimsMustBeNumbers(t *testing.T) {
	secret := testSecret()
	v := newTestVerifier(t, Config{Secret: secret, Issuer: testIssuer, Audience: testAudience})
	c := baseClaims()
	exp := strconv.FormatInt(c.ExpiresAt.Unix(), 10)
	for name, claims := range map[string]jwt.MapClaims{
		"exp as a string": {"sub": "alice", "iss": testIssuer, "aud": testAudience, "exp": exp},
		"nbf as a string": {"sub": "alice", "iss": testIssuer, "aud": testAudience, "exp": c.ExpiresAt.Unix(), "nbf": "0"},
		"iat as a string": {"sub": "alice", "iss": testIssuer, "aud": testAudience, "exp": c.ExpiresAt.Unix(), "iat": "0"},
	} {
		token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		if sub, err := v.Verify(token); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "must be a number") {
			t.Errorf("%s: %q, %v", name, sub, err)
		}
	}
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "iss": testIssuer, "aud": testAudience, "exp": c.ExpiresAt.Unix(), "iat": 0}).SignedString(secret)
	if sub, err := v.Verify(good); err != nil || sub != "alice" {
		t.Fatalf("numbers: %q, %v", sub, err)
	}
}

// A handshake's expiry is the token's exp plus the leeway, the last moment
// Verify accepts it; the same from a remembered token.
func TestAuthenticateHandshakeReturnsTheExpiry(t *testing.T) {
	c := baseClaims()
	tok := mintWith(t, testSecret(), HS256, c)
	now := testNow
	v := newTestVerifier(t, Config{Secret: testSecret(), Leeway: time.Minute, Now: func() time.Time { return now }})
	want := c.ExpiresAt.Add(time.Minute)
	for i := range 2 { // the second from the accepted tokens
		r := httptest.NewRequest("GET", "/v1/ws?access_token="+tok, nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		user, expires, err := v.AuthenticateHandshake(r)
		if err != nil || user != c.Subject || !expires.Equal(want) {
			t.Fatalf("try %d: %q, %v, %v; want %q, %v", i, user, expires, err, c.Subject, want)
		}
	}
	now = want
	if _, err := v.Verify(tok); !errors.Is(err, errExpired) {
		t.Fatalf("at the expiry: %v, want expired", err)
	}
	now = want.Add(-time.Second)
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("a second before the expiry: %v", err)
	}
}
