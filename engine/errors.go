package engine

import "errors"

// Rejections: a command the game refuses. Decide wraps one of these with a
// message that says why; callers test with errors.Is and map them to wire
// codes once, at the edge (not_your_turn, invalid_action, action_not_allowed,
// game_ended). A rejected command changes nothing.
var (
	// ErrNotYourTurn: the actor is a player, but someone else must act now.
	ErrNotYourTurn = errors.New("not your turn")
	// ErrInvalidAction: the action cannot be decoded: not a JSON object,
	// unknown type, missing, unknown or mistyped field, value out of range.
	ErrInvalidAction = errors.New("invalid action")
	// ErrActionNotAllowed: a well-formed action the rules refuse now (a
	// forced action is pending, the card is not in hand, the actor is not a
	// player, a bid does not raise, ...).
	ErrActionNotAllowed = errors.New("action not allowed")
	// ErrGameOver: the game has ended; it accepts no more commands.
	ErrGameOver = errors.New("game over")
)

// Setup and log errors.
var (
	// ErrInvalidSetup: Create was given a bad config, bad players or a bad
	// seed.
	ErrInvalidSetup = errors.New("invalid game setup")
	// ErrCorruptLog: events that do not fold: unknown type or version,
	// undecodable data, events out of order, a seq gap in rendered events.
	ErrCorruptLog = errors.New("corrupt event log")
	// ErrUnknownGame: the registry has no game of that name.
	ErrUnknownGame = errors.New("unknown game")
)

// Fairness errors, returned by Verify (and ErrCommitmentMismatch also by
// Decide when given a seed the game did not commit to).
var (
	// ErrSeedNotRevealed: the log does not end with a seed_revealed event,
	// so it cannot be audited (yet).
	ErrSeedNotRevealed = errors.New("seed not revealed")
	// ErrCommitmentMismatch: SHA-256 of the seed is not the commitment
	// recorded in game_created.
	ErrCommitmentMismatch = errors.New("seed does not match commitment")
	// ErrEventMismatch: re-running the rules with the revealed seed does not
	// reproduce the recorded events: an altered card or die, an illegal
	// recorded action, or a forged event.
	ErrEventMismatch = errors.New("recorded event does not match re-derived event")
)

// IsRejection reports whether err is one of the four command rejections.
func IsRejection(err error) bool {
	return errors.Is(err, ErrNotYourTurn) || errors.Is(err, ErrInvalidAction) ||
		errors.Is(err, ErrActionNotAllowed) || errors.Is(err, ErrGameOver)
}
