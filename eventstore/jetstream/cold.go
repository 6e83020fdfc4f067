package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
)

// Reads of a game this process has no index of (a viewer resuming a game
// this node has not served) do not build one: building it reads every
// message of the game, so a resume near the head of a long game would cost
// the game's length. Instead the last message comes from one direct get
// (last_by_subj), and the message holding a given seq from a binary search
// over stream sequences, each probe one direct get: O(log stream size)
// round trips, whatever the game's length. Appends still build the full
// index, which idempotency needs.

// lastRef is the game's last message; ok is false if the game has none. On
// a replicated stream the leader is asked (a follower may not have applied
// the newest yet: refresh's caughtUp).
func (s *Store) lastRef(ctx context.Context, game uuid.UUID) (msgRef, bool, error) {
	if s.replicated() {
		return s.leaderLast(ctx, game)
	}
	return s.directOne(ctx, game, map[string]any{"last_by_subj": s.subject(game)})
}

// probe is the game's first message at or after stream sequence from.
func (s *Store) probe(ctx context.Context, game uuid.UUID, from uint64) (msgRef, bool, error) {
	return s.directOne(ctx, game, map[string]any{"seq": from, "next_by_subj": s.subject(game)})
}

func (s *Store) directOne(ctx context.Context, game uuid.UUID, req map[string]any) (msgRef, bool, error) {
	m, ss, found, err := s.directMsg(ctx, game.String(), req)
	if err != nil || !found {
		return msgRef{}, false, err
	}
	ref, err := headerRef(m.Header.Get(hdrIndex), ss)
	return ref, err == nil, err
}

// directMsg is the one message a direct get request asks for, and its
// stream sequence; found is false if there is none. what names it in errors.
func (s *Store) directMsg(ctx context.Context, what string, req map[string]any) (*nats.Msg, uint64, bool, error) {
	body, _ := json.Marshal(req)
	var (
		msg *nats.Msg
		ss  uint64
	)
	_, _, err := s.replies.batch(ctx, s.cfg.RequestTimeout, "$JS.API.DIRECT.GET."+s.cfg.Stream, body, 1, func(m *nats.Msg) (bool, error) {
		switch m.Header.Get("Status") {
		case "404":
			return false, errEnd
		case "":
		default:
			return false, fmt.Errorf("direct get %s: status %s %s", what, m.Header.Get("Status"), m.Header.Get("Description"))
		}
		var err error
		if ss, err = strconv.ParseUint(m.Header.Get(nats.JSSequence), 10, 64); err != nil {
			return false, fmt.Errorf("%w: direct get reply without a sequence", errFormat)
		}
		msg = m
		return false, errEnd
	})
	return msg, ss, err == nil && msg != nil, err
}

// locateCold returns the stream sequence of the game's message holding
// seq, given its last message (seq <= last.last).
func (s *Store) locateCold(ctx context.Context, game uuid.UUID, seq uint64, last msgRef) (uint64, error) {
	if seq >= last.first {
		return last.streamSeq, nil
	}
	if seq == 1 { // the game's first message, whatever the stream holds before it
		r, ok, err := s.probe(ctx, game, 1)
		if err != nil {
			return 0, err
		}
		if ok && r.first == 1 {
			return r.streamSeq, nil
		}
	}
	// Invariant: the message holding seq is at or after lo and before hi.
	lo, hi := uint64(1), last.streamSeq
	for lo < hi {
		mid := lo + (hi-lo)/2
		r, ok, err := s.probe(ctx, game, mid)
		if err != nil {
			return 0, err
		}
		switch {
		case !ok || r.streamSeq >= hi || r.first > seq:
			hi = mid // the message holding seq is before mid
		case r.last >= seq:
			return r.streamSeq, nil
		default:
			lo = r.streamSeq + 1
		}
	}
	return 0, fmt.Errorf("%w: game %s has no message holding seq %d", errFormat, game, seq)
}

// coldReadMax is the longest read from a game's start that goes the cold
// way on a game this process has not indexed: a header (play reads the
// first event) needs one message, not the game's index.
const coldReadMax = 64

var errFull = errors.New("read full")

// readCold is Read for a game this process has no index of.
func (s *Store) readCold(ctx context.Context, game uuid.UUID, after uint64, limit int) ([]eventstore.Event, error) {
	last, ok, err := s.lastRef(ctx, game)
	if err != nil {
		return nil, s.errStore("read", game, err)
	}
	if !ok {
		return nil, fmt.Errorf("read %s: %w", game, eventstore.ErrGameNotFound)
	}
	if after >= last.last {
		return []eventstore.Event{}, nil
	}
	want := int(min(uint64(limit), last.last-after))
	var events []eventstore.Event
	read := func() error {
		from, err := s.locateCold(ctx, game, after+1, last)
		if err != nil {
			err = s.errStore("read", game, err)
		} else {
			events, err = s.readMessages(ctx, game, from, limit, after, want, last.streamSeq)
		}
		if s.replicated() && errors.Is(err, errFormat) {
			// A follower behind the leader's last (lastRef) answers less,
			// or not at all: readAgain asks again.
			events, err = nil, nil
		}
		return err
	}
	if err := read(); err != nil {
		return nil, err
	}
	if s.replicated() {
		err := s.readAgain(ctx, func() bool { return len(events) < want }, read,
			func() string { return fmt.Sprintf("%d events of %s after %d", want, game, after) })
		if errors.Is(err, errLagging) {
			err = s.errStore("read", game, err)
		}
		if err != nil {
			return nil, err
		}
	}
	return events, nil
}
