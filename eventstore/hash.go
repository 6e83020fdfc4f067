package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// Hash is a SHA-256 digest in the event hash chain.
type Hash [sha256.Size]byte

// String returns the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes h as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes the hex form.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("%w: hash must be %d hex digits", ErrInvalidArgument, 2*len(h))
	}
	_, err := hex.Decode(h[:], b)
	if err != nil {
		return fmt.Errorf("%w: hash: %v", ErrInvalidArgument, err)
	}
	return nil
}

// chainDomain separates playlog's event hashes from any other SHA-256 use.
const chainDomain = "playlog.event.v1\x00"

// badVersionDomain is ChainHash's for a schema version out of range.
const badVersionDomain = "playlog.event.v1.bad-schema-version\x00"

// ChainHash computes an event's hash from the previous event's hash (all zero
// for seq 1) and the event's canonical fields. The formula, specified in
// docs/eventlog.md so that outside tools can recompute it:
//
//	SHA-256( "playlog.event.v1" 0x00
//	         prev_hash                  32 bytes
//	         game_id                    16 bytes, RFC 4122 byte order
//	         seq                        uint64 big-endian
//	         schema_version             uint32 big-endian
//	         recorded_at                int64 big-endian, Unix microseconds
//	         lp(type) lp(actor) lp(message_id) lp(data) )
//
// where lp(x) is len(x) as uint32 big-endian followed by the bytes of x, and
// data is the exact stored JSON bytes.
//
// A schema version no append can store (below 0 or past uint32) hashes
// under another domain with all its 64 bits, so that it matches no stored
// hash: truncated to 32 bits, an edited version would hash as the
// original.
func ChainHash(prev Hash, e *Event) Hash {
	h := sha256.New()
	var buf [8]byte
	if sv := e.SchemaVersion; sv < 0 || uint64(sv) > math.MaxUint32 {
		h.Write([]byte(badVersionDomain))
		binary.BigEndian.PutUint64(buf[:], uint64(sv))
		h.Write(buf[:8])
	} else {
		h.Write([]byte(chainDomain))
	}
	h.Write(prev[:])
	h.Write(e.GameID[:])
	binary.BigEndian.PutUint64(buf[:], e.Seq)
	h.Write(buf[:8])
	binary.BigEndian.PutUint32(buf[:4], uint32(e.SchemaVersion))
	h.Write(buf[:4])
	binary.BigEndian.PutUint64(buf[:], uint64(e.RecordedAt.UnixMicro()))
	h.Write(buf[:8])
	for _, field := range [][]byte{[]byte(e.Type), []byte(e.Actor), []byte(e.MessageID), e.Data} {
		binary.BigEndian.PutUint32(buf[:4], uint32(len(field)))
		h.Write(buf[:4])
		h.Write(field)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// VerifyChain checks that events are consecutive from prev (the hash of the
// event before the first, zero for seq 1) and that each hash is what
// ChainHash gives. It returns the first broken link.
func VerifyChain(prev Hash, events []Event) error {
	for i := range events {
		e := &events[i]
		if i > 0 && e.Seq != events[i-1].Seq+1 {
			return fmt.Errorf("eventstore: chain gap: seq %d follows %d", e.Seq, events[i-1].Seq)
		}
		if e.PrevHash != prev {
			return fmt.Errorf("eventstore: chain broken at seq %d: prev_hash does not match the previous event", e.Seq)
		}
		if want := ChainHash(prev, e); e.Hash != want {
			return fmt.Errorf("eventstore: chain broken at seq %d: hash does not match its contents", e.Seq)
		}
		prev = e.Hash
	}
	return nil
}

// Stamp turns pending events into events that follow head (seq and hash of the
// game's last event; zero for a new game), recorded at now. Time is kept to
// the microsecond so that every backend stores and hashes the same instant.
// Callers must Validate first.
func Stamp(game uuid.UUID, headSeq uint64, headHash Hash, now time.Time, pending []Pending) []Event {
	now = now.UTC().Truncate(time.Microsecond)
	out := make([]Event, len(pending))
	prev := headHash
	for i, p := range pending {
		e := &out[i]
		e.GameID = game
		e.Seq = headSeq + uint64(i) + 1
		e.Type = p.Type
		e.SchemaVersion = p.SchemaVersion
		e.Actor = p.Actor
		e.MessageID = p.MessageID
		e.Data = p.Data
		e.RecordedAt = now
		e.PrevHash = prev
		e.Hash = ChainHash(prev, e)
		prev = e.Hash
	}
	return out
}
