package play

import "errors"

// Errors of the command path, besides the engine's rejections
// (engine.ErrNotYourTurn, ErrInvalidAction, ErrActionNotAllowed,
// ErrGameOver), which Execute passes through.
var (
	// ErrGameNotFound: no game has that id.
	ErrGameNotFound = errors.New("game not found")
	// ErrNotInGame: the user is not a player of the game.
	ErrNotInGame = errors.New("not a player in this game")
	// ErrMessageIDReused: the message id was already used by this user in
	// this game for a different command. Nothing was appended; the client
	// must send a new command under a new message id.
	ErrMessageIDReused = errors.New("the message id was already used by this user in this game for a different command")
	// ErrBadRequest: a malformed request (unknown rules, bad players or
	// config, over-long ids).
	ErrBadRequest = errors.New("bad request")
	// ErrBusy: the command lost every race for the game's next seq.
	ErrBusy = errors.New("game too busy")
)
