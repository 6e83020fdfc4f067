package seal_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/seal"
)

var (
	key     = ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	key2    = ed25519.NewKeyFromSeed([]byte("fedcba9876543210fedcba9876543210"))
	signer  = seal.NewSigner(key)
	game    = uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	at      = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	vectorH = eventstore.Hash{1, 2, 3}
)

// TestVector pins the signed message and signature that docs/eventlog.md
// gives, so that outside tools can check theirs against it.
func TestVector(t *testing.T) {
	m, err := seal.Message(game, 42, vectorH, eventstore.SealFinal)
	if err != nil {
		t.Fatal(err)
	}
	const wantMsg = "706c61796c6f672e7365616c2e763100" + // "playlog.seal.v1" 0x00
		"6ba7b8109dad11d180b400c04fd430c8" + // game id
		"000000000000002a" + // seq 42
		"0102030000000000000000000000000000000000000000000000000000000000" + // hash
		"01" // final
	if got := hex.EncodeToString(m); got != wantMsg {
		t.Fatalf("message\n got %s\nwant %s", got, wantMsg)
	}
	s, err := signer.Sign(eventstore.Event{GameID: game, Seq: 42, Hash: vectorH}, eventstore.SealFinal, at)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), m, s.Signature) {
		t.Fatal("signature does not verify over Message")
	}
	const wantSig = "f8f6b44983f33fd388993efda70665cc9baefb2173f6419553cbc10b73aa89cb" +
		"ba4beb700580cbfc4f70ffb2b4d07af2e8002f0a3631134d0df47d20c3c3e70e"
	if got := hex.EncodeToString(s.Signature); got != wantSig {
		t.Errorf("signature %s, want %s", got, wantSig)
	}
	const wantKeyID = "fb7970219e26d1f4"
	if signer.KeyID() != wantKeyID || s.KeyID != wantKeyID {
		t.Errorf("key id %s (seal %s), want %s", signer.KeyID(), s.KeyID, wantKeyID)
	}
}

func TestVerify(t *testing.T) {
	good, _ := signer.Sign(eventstore.Event{GameID: game, Seq: 7, Hash: vectorH}, eventstore.SealCheckpoint, at)
	v := seal.NewVerifier(signer.PublicKey())
	if err := v.Verify(good); err != nil {
		t.Fatalf("a good seal: %v", err)
	}
	other := seal.NewSigner(ed25519.NewKeyFromSeed(make([]byte, 32)))
	forged, _ := other.Sign(eventstore.Event{GameID: game, Seq: 7, Hash: vectorH}, eventstore.SealCheckpoint, at)
	forgedID := forged
	forgedID.KeyID = good.KeyID
	cases := map[string]struct {
		edit func(*eventstore.Seal)
		want error
	}{
		"seq":       {func(s *eventstore.Seal) { s.Seq++ }, seal.ErrBadSignature},
		"hash":      {func(s *eventstore.Seal) { s.Hash[0] ^= 1 }, seal.ErrBadSignature},
		"game":      {func(s *eventstore.Seal) { s.GameID = uuid.New() }, seal.ErrBadSignature},
		"kind":      {func(s *eventstore.Seal) { s.Kind = eventstore.SealFinal }, seal.ErrBadSignature},
		"bad kind":  {func(s *eventstore.Seal) { s.Kind = "other" }, seal.ErrBadSignature},
		"signature": {func(s *eventstore.Seal) { s.Signature = append([]byte{}, s.Signature...); s.Signature[5] ^= 1 }, seal.ErrBadSignature},
		"short sig": {func(s *eventstore.Seal) { s.Signature = s.Signature[:10] }, seal.ErrBadSignature},
		"other key": {func(s *eventstore.Seal) { *s = forged }, seal.ErrUnknownKey},
		"forged id": {func(s *eventstore.Seal) { *s = forgedID }, seal.ErrBadSignature},
		"no key id": {func(s *eventstore.Seal) { s.KeyID = "" }, seal.ErrUnknownKey},
	}
	for name, c := range cases {
		s := good
		c.edit(&s)
		if err := v.Verify(s); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
	// Two keys while rotating: both verify.
	both := seal.NewVerifier(signer.PublicKey(), other.PublicKey())
	if both.Verify(good) != nil || both.Verify(forged) != nil {
		t.Error("a verifier with both keys refuses one")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "dev-seal-key")
	k, made, err := seal.EnsurePrivateKey(path)
	if err != nil || !made {
		t.Fatalf("EnsurePrivateKey = %v, made %v", err, made)
	}
	again, made, err := seal.EnsurePrivateKey(path)
	if err != nil || made || !again.Equal(k) {
		t.Fatalf("second EnsurePrivateKey = %v, made %v, same %v", err, made, again.Equal(k))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	pub, err := seal.LoadPublicKey(path + ".pub")
	if err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("LoadPublicKey(.pub) = %v, matches %v", err, pub.Equal(k.Public()))
	}
	hexFile := filepath.Join(dir, "pub.hex")
	os.WriteFile(hexFile, []byte(hex.EncodeToString(pub)+"\n"), 0o644)
	if p, err := seal.LoadPublicKey(hexFile); err != nil || !p.Equal(pub) {
		t.Fatalf("LoadPublicKey(hex) = %v", err)
	}
	for name, content := range map[string]string{
		"garbage": "not a key",
		"short":   "abcd",
		"privpem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(content), 0o644)
		if _, err := seal.LoadPublicKey(f); err == nil {
			t.Errorf("LoadPublicKey(%s) accepted it", name)
		}
		if _, err := seal.LoadPrivateKey(f); err == nil {
			t.Errorf("LoadPrivateKey(%s) accepted it", name)
		}
	}
	if _, err := seal.LoadPrivateKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadPrivateKey of a missing file")
	}
}

func BenchmarkSign(b *testing.B) {
	e := eventstore.Event{GameID: game, Seq: 42, Hash: vectorH}
	for b.Loop() {
		signer.Sign(e, eventstore.SealFinal, at)
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := signer.Sign(eventstore.Event{GameID: game, Seq: 42, Hash: vectorH}, eventstore.SealFinal, at)
	v := seal.NewVerifier(signer.PublicKey())
	for b.Loop() {
		if err := v.Verify(s); err != nil {
			b.Fatal(err)
		}
	}
}
