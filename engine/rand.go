package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
)

// randDomain separates playlog's random stream from any other use of the
// seed. It is part of the derivation auditors recompute; never change it.
const randDomain = "playlog/rand/v1"

// Rand is the deterministic random stream of one command. It is a pure
// function of the game's seed and the seq of the first event the command
// produces (1 for Create):
//
//	block(i) = HMAC-SHA256(key = seed, msg = "playlog/rand/v1" || BE64(seq) || BE64(i)), i = 0, 1, 2, ...
//	stream   = block(0) || block(1) || ...
//
// Uint64 takes the next 8 bytes of the stream, big-endian. Intn(n) draws
// v = Uint64() until v < 2^64 - (2^64 mod n) and returns v mod n (rejection
// sampling, so every result is equally likely). Shuffle is Fisher-Yates:
// for i from n-1 down to 1, j = Intn(i+1), swap(i, j).
//
// A Rand is not safe for concurrent use.
type Rand struct {
	seed  []byte
	mac   hash.Hash // made on first use: most commands draw nothing
	seq   uint64
	block uint64
	buf   [sha256.Size]byte
	off   int
}

// NewRand returns the stream for the command whose first event is at seq.
func NewRand(seed []byte, seq uint64) *Rand {
	return &Rand{seed: seed, seq: seq, off: sha256.Size}
}

func (r *Rand) refill() {
	var msg [len(randDomain) + 16]byte
	copy(msg[:], randDomain)
	binary.BigEndian.PutUint64(msg[len(randDomain):], r.seq)
	binary.BigEndian.PutUint64(msg[len(randDomain)+8:], r.block)
	if r.mac == nil {
		r.mac = hmac.New(sha256.New, r.seed)
	}
	r.mac.Reset()
	r.mac.Write(msg[:])
	r.mac.Sum(r.buf[:0])
	r.block++
	r.off = 0
}

// Uint64 returns the next 8 bytes of the stream as a big-endian integer.
func (r *Rand) Uint64() uint64 {
	if r.off+8 > len(r.buf) {
		r.refill()
	}
	v := binary.BigEndian.Uint64(r.buf[r.off:])
	r.off += 8
	return v
}

// Intn returns a uniform integer in [0, n). It panics if n <= 0.
func (r *Rand) Intn(n int) int {
	if n <= 0 {
		panic("engine: Rand.Intn: n <= 0")
	}
	un := uint64(n)
	rem := (math.MaxUint64%un + 1) % un // 2^64 mod n
	for {
		v := r.Uint64()
		if v <= math.MaxUint64-rem {
			return int(v % un)
		}
	}
}

// Shuffle permutes n elements uniformly by Fisher-Yates, calling swap.
func (r *Rand) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.Intn(i+1))
	}
}
