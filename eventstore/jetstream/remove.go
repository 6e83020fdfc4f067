package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// Remove implements eventstore.Importer: it purges the game's subject, up
// to the last message whose head it checked, then its seals and snapshots.
// Both the check and the purges go to the stream's leader (no direct get,
// which a lagging replica may answer).
//
// JetStream cannot make the check and the purge one step. This process's
// appends to the game wait for Remove (the game's index lock); another
// process's append landing between the check and the purge survives it,
// since the purge stops at the message checked, and Remove then reports a
// conflict, the game left holding only that later tail. Remove is for
// games that have ended, which nobody appends to.
func (s *Store) Remove(ctx context.Context, game uuid.UUID, head uint64, headHash eventstore.Hash) error {
	if err := s.check(game); err != nil {
		return fmt.Errorf("remove %s: %w", game, err)
	}
	if head == 0 {
		return fmt.Errorf("remove %s: %w: head 0", game, eventstore.ErrInvalidArgument)
	}
	if err := s.CanRemove(); err != nil {
		return fmt.Errorf("remove %s: %w", game, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	// This process's index of the game, if it has one: held, so that its
	// appends wait, and emptied once the game is gone.
	g, cached := s.games.Get(game)
	if cached {
		g.mu.Lock()
		defer g.mu.Unlock()
	}
	last, found, err := s.leaderLast(ctx, game)
	if err != nil {
		return s.errStore("remove", game, err)
	}
	if !found {
		if cached {
			g.reset()
		}
		return fmt.Errorf("remove %s: %w", game, eventstore.ErrGameNotFound)
	}
	if last.last != head || last.lastHash != headHash {
		return fmt.Errorf("remove %s: head is seq %d with hash %s, not seq %d with hash %s: %w",
			game, last.last, last.lastHash, head, headHash, &eventstore.ConflictError{Game: game, Expected: head, Actual: last.last})
	}
	// Events first, up to and with the message checked, not beyond; then
	// the seals. A crash between the two leaves seals without events, which
	// the archive's copy explains (the audit asks for it), never events
	// without their seals.
	if err := s.stream.Purge(ctx, natsjs.WithPurgeSubject(s.subject(game)), natsjs.WithPurgeSequence(last.streamSeq+1)); err != nil {
		return s.errStore("remove", game, fmt.Errorf("purge events: %w", err))
	}
	if err := s.stream.Purge(ctx, natsjs.WithPurgeSubject(s.sealSubject(game))); err != nil {
		return s.errStore("remove", game, fmt.Errorf("purge seals: %w", err))
	}
	// A snapshot left behind by a crash here is harmless: a reader checks
	// its hash against the log, and a game imported again has the same.
	if err := s.stream.Purge(ctx, natsjs.WithPurgeSubject(s.snapSubject(game))); err != nil {
		return s.errStore("remove", game, fmt.Errorf("purge snapshots: %w", err))
	}
	if cached {
		g.reset()
	}
	after, found, err := s.leaderLast(ctx, game)
	if err != nil {
		return s.errStore("remove", game, err)
	}
	if found {
		return fmt.Errorf("remove %s: seqs %d..%d were appended while it was removed, and remain: %w",
			game, head+1, after.last, &eventstore.ConflictError{Game: game, Expected: head, Actual: after.last})
	}
	return nil
}

// leaderLast is the game's last message, read from the stream's leader
// (the stream's message get API, not a direct get); found is false if the
// game has none.
func (s *Store) leaderLast(ctx context.Context, game uuid.UUID) (ref msgRef, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	req, _ := json.Marshal(map[string]string{"last_by_subj": s.subject(game)})
	reply, err := s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.cfg.Stream, req)
	if err != nil {
		return msgRef{}, false, err
	}
	var resp struct {
		Error   *natsjs.APIError `json:"error"`
		Message *struct {
			Seq    uint64 `json:"seq"`
			Header []byte `json:"hdrs"`
		} `json:"message"`
	}
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return msgRef{}, false, fmt.Errorf("message get: %w", err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == natsjs.JSErrCodeMessageNotFound:
		return msgRef{}, false, nil
	case resp.Error != nil:
		return msgRef{}, false, resp.Error
	case resp.Message == nil:
		return msgRef{}, false, fmt.Errorf("%w: message get reply without a message", errFormat)
	}
	hdr, err := nats.DecodeHeadersMsg(resp.Message.Header)
	if err != nil {
		return msgRef{}, false, fmt.Errorf("%w: message get: %v", errFormat, err)
	}
	ref, err = headerRef(hdr.Get(hdrIndex), resp.Message.Seq)
	return ref, err == nil, err
}

// CanRemove reports whether Remove can work on this store's stream: not
// on one created before archiving, which denies purges.
func (s *Store) CanRemove() error {
	if s.denyPurge {
		return fmt.Errorf("jetstream: stream %s denies purges (it was created before archiving): "+
			"copy the log to a new stream (export, then import) to archive from it: %w", s.cfg.Stream, errors.ErrUnsupported)
	}
	return nil
}
