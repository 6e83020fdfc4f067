package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
)

// apiError is an error with its wire code, HTTP status and the message the
// user sees. Everything else becomes internal_error, logged, never shown.
type apiError struct {
	code    string
	status  int
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(code string, status int, message string) *apiError {
	return &apiError{code: code, status: status, message: message}
}

func invalid(message string) *apiError {
	return errorf(protocol.CodeInvalidMessage, http.StatusBadRequest, message)
}

// errDraining refuses a command that arrives once the server has begun to
// drain (Server.Drain): the client retries on another node.
var errDraining = errors.New("this node is shutting down")

// classify maps an error to its wire code, once, at the edge.
func classify(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, errDraining):
		return errorf(protocol.CodeUnavailable, http.StatusServiceUnavailable,
			"this node is shutting down and took no new command: retry on another node, or after reconnecting, with the same message_id")
	case errors.Is(err, engine.ErrNotYourTurn):
		return errorf(protocol.CodeNotYourTurn, http.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrInvalidAction):
		return errorf(protocol.CodeInvalidAction, http.StatusBadRequest, err.Error())
	case errors.Is(err, engine.ErrActionNotAllowed):
		return errorf(protocol.CodeActionNotAllowed, http.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrGameOver):
		return errorf(protocol.CodeGameEnded, http.StatusConflict, "the game has ended")
	case errors.Is(err, play.ErrGameNotFound), errors.Is(err, eventstore.ErrGameNotFound):
		return errorf(protocol.CodeGameNotFound, http.StatusNotFound, "no game with that id")
	case errors.Is(err, play.ErrNotInGame):
		return errorf(protocol.CodeNotInGame, http.StatusForbidden, err.Error())
	case errors.Is(err, play.ErrMessageIDReused):
		return errorf(protocol.CodeInvalidMessage, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, projections.ErrBadCursor):
		return errorf(protocol.CodeInvalidMessage, http.StatusBadRequest, "before is not a cursor this server gave")
	case errors.Is(err, replay.ErrBadStep):
		return errorf(protocol.CodeInvalidMessage, http.StatusBadRequest, err.Error())
	case errors.Is(err, play.ErrBadRequest):
		return errorf(protocol.CodeInvalidMessage, http.StatusBadRequest, err.Error())
	case errors.Is(err, eventstore.ErrUnavailable):
		return errorf(protocol.CodeUnavailable, http.StatusServiceUnavailable,
			"the event log is not answering now: retry with the same message_id")
	case errors.Is(err, hub.ErrSpectatorsBehind):
		return errorf(protocol.CodeUnavailable, http.StatusServiceUnavailable,
			"this game moves too fast for its spectator delay: spectate it again later")
	case errors.Is(err, play.ErrBusy):
		return errorf(protocol.CodeInternalError, http.StatusServiceUnavailable, "the game is too busy; retry with the same message_id")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errorf(protocol.CodeInternalError, http.StatusServiceUnavailable, "the request timed out; retry with the same message_id")
	}
	return errorf(protocol.CodeInternalError, http.StatusInternalServerError, "internal error")
}
