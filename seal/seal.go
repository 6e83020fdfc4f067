package seal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// domain separates playlog's seal signatures from any other use of the key.
const domain = "playlog.seal.v1\x00"

// Kind bytes in the signed message.
const (
	kindFinal      byte = 1
	kindCheckpoint byte = 2
)

// Errors of Verify.
var (
	// ErrBadSignature: the signature is not the key's over the seal.
	ErrBadSignature = errors.New("seal: bad signature")
	// ErrUnknownKey: no public key given has the seal's key id.
	ErrUnknownKey = errors.New("seal: unknown key id")
)

// Message is the exact byte string a seal signs:
//
//	"playlog.seal.v1" 0x00
//	game_id   16 bytes, RFC 4122 byte order
//	seq       uint64 big-endian: the last event the seal covers
//	hash      32 bytes: that event's chain hash
//	kind      1 byte: 1 = final, 2 = checkpoint
//
// The key id and the time sealed are not signed: the key id only finds
// the key, and the time is informative.
func Message(game uuid.UUID, seq uint64, hash eventstore.Hash, kind eventstore.SealKind) ([]byte, error) {
	var k byte
	switch kind {
	case eventstore.SealFinal:
		k = kindFinal
	case eventstore.SealCheckpoint:
		k = kindCheckpoint
	default:
		return nil, fmt.Errorf("seal: unknown kind %q", kind)
	}
	m := make([]byte, 0, len(domain)+16+8+32+1)
	m = append(m, domain...)
	m = append(m, game[:]...)
	m = binary.BigEndian.AppendUint64(m, seq)
	m = append(m, hash[:]...)
	return append(m, k), nil
}

// KeyID names a public key: the first 8 bytes of SHA-256 of its 32 bytes,
// in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs seals with one private key. It is immutable and safe for
// concurrent use.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// PublicKey is the key that verifies the signer's seals.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign seals event e (the last one covered) as kind, at now. Ed25519 is
// deterministic: signing the same event again gives the same seal, which
// stores keep once.
func (s *Signer) Sign(e eventstore.Event, kind eventstore.SealKind, now time.Time) (eventstore.Seal, error) {
	m, err := Message(e.GameID, e.Seq, e.Hash, kind)
	if err != nil {
		return eventstore.Seal{}, err
	}
	return eventstore.Seal{
		GameID: e.GameID, Seq: e.Seq, Hash: e.Hash, Kind: kind, KeyID: s.id,
		Signature: ed25519.Sign(s.key, m), SealedAt: now.UTC().Truncate(time.Microsecond),
	}, nil
}

// Verifier checks seals under a set of public keys (several while keys
// rotate). It is immutable and safe for concurrent use.
type Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewVerifier returns a Verifier that trusts keys.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{keys: make(map[string]ed25519.PublicKey, len(keys))}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// Verify checks s's signature. Errors: ErrUnknownKey, ErrBadSignature.
func (v *Verifier) Verify(s eventstore.Seal) error {
	k, ok := v.keys[s.KeyID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, s.KeyID)
	}
	m, err := Message(s.GameID, s.Seq, s.Hash, s.Kind)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if len(s.Signature) != ed25519.SignatureSize || !ed25519.Verify(k, m, s.Signature) {
		return fmt.Errorf("%w: %s seal of game %s at seq %d under key %s", ErrBadSignature, s.Kind, s.GameID, s.Seq, s.KeyID)
	}
	return nil
}
