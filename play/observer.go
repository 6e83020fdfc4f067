package play

import "time"

// Observer is told what the command path does, for metrics. Its methods
// are called on the command's goroutine and must not block.
type Observer interface {
	// Appended reports one append of a command: how long the store took,
	// which attempt it was (0 for the first; later ones retry after a
	// conflict) and the store's error (an eventstore.ErrConflict is a lost
	// race for the game's next seq).
	Appended(d time.Duration, attempt int, err error)
}

type noObserver struct{}

func (noObserver) Appended(time.Duration, int, error) {}
