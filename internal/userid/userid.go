// Package userid holds the one rule for a user id: what a token's subject
// may be (package auth) and what a game's players may be named (package
// play), so that every seat of a game can be taken by some token.
package userid

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest user id, in bytes. With "/" and a message id of up
// to 64 bytes it fits a stored message id (eventstore.MaxMessageIDLen, 128).
const MaxLen = 60

// Check reports what is wrong with id as a user id, or nil: it must be
// non-empty valid UTF-8 of at most MaxLen bytes, printable, without "/".
func Check(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	if len(id) > MaxLen {
		return fmt.Errorf("longer than %d bytes", MaxLen)
	}
	if !utf8.ValidString(id) {
		return errors.New("not UTF-8")
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return errors.New("unprintable character")
		}
		if r == '/' {
			// The stored message id is "<user>/<message id>": a "/" in
			// the user would let one user's ids pass for another's (or
			// the system's, "system/timeout/<turn>").
			return errors.New(`"/" is not allowed`)
		}
	}
	return nil
}
