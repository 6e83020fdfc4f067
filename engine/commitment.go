package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// SeedSize is the length in bytes of a game's secret seed.
const SeedSize = 32

// Commit returns the commitment to seed recorded in game_created:
// hex(SHA-256(seed)), lower case.
func Commit(seed []byte) string {
	sum := sha256.Sum256(seed)
	return hex.EncodeToString(sum[:])
}

func checkSeed(commitment string, seed []byte) error {
	if subtle.ConstantTimeCompare([]byte(Commit(seed)), []byte(commitment)) != 1 {
		return fmt.Errorf("%w: the game committed to %s", ErrCommitmentMismatch, commitment)
	}
	return nil
}
