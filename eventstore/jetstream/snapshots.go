package jetstream

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
)

// A game's snapshots live in the stream beside its events and seals, on
// "<prefix>.snap.<game-id>": the payload is the snapshot's data, the
// headers its seq and hash. Neither the feed nor the republish (both
// "<prefix>.*", one token) sees them. The latest is read with one direct
// get (last_by_subj); a put purges the older ones.

const (
	hdrSnapSeq  = "Playlog-Snapshot-Seq"
	hdrSnapHash = "Playlog-Snapshot-Hash"
)

func (s *Store) snapSubject(game uuid.UUID) string {
	return s.cfg.SubjectPrefix + ".snap." + game.String()
}

// PutSnapshot implements eventstore.Snapshots. It checks the event at the
// snapshot's seq with a read, and publishes with the stream sequence of
// the game's last snapshot as the expected last subject sequence, so that
// of two racing puts the later seq stays.
func (s *Store) PutSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	game := snap.GameID
	if s.isClosed() {
		return fmt.Errorf("put snapshot %s: %w", game, eventstore.ErrClosed)
	}
	if err := eventstore.ValidateSnapshot(snap); err != nil {
		return fmt.Errorf("put snapshot %s: %w", game, err)
	}
	events, err := s.Read(ctx, game, snap.Seq-1, 1)
	if err != nil {
		return fmt.Errorf("put snapshot: %w", err)
	}
	if err := eventstore.SnapshotOf(snap, events); err != nil {
		return fmt.Errorf("put snapshot %s: %w", game, err)
	}
	for attempt := 0; ; attempt++ {
		old, lastSS, ok, err := s.lastSnapshot(ctx, game)
		if err != nil {
			return s.errStore("put snapshot", game, err)
		}
		if ok && old.Seq >= snap.Seq {
			return nil
		}
		m := nats.NewMsg(s.snapSubject(game))
		m.Data = snap.Data
		m.Header.Set(hdrSnapSeq, strconv.FormatUint(snap.Seq, 10))
		m.Header.Set(hdrSnapHash, snap.Hash.String())
		ack, err := s.publishAfter(ctx, m, lastSS)
		switch {
		case err == nil && lastSS > 0 && !s.denyPurge:
			// Only the latest is read: the older ones go.
			if err := s.stream.Purge(ctx, natsjs.WithPurgeSubject(s.snapSubject(game)), natsjs.WithPurgeSequence(ack.Sequence)); err != nil {
				return s.errStore("put snapshot", game, fmt.Errorf("purge older snapshots: %w", err))
			}
			return nil
		case err == nil:
			return nil
		case !isWrongLastSequence(err) || attempt >= 4:
			return s.errStore("put snapshot", game, err)
		}
		// Another snapshot of the game landed meanwhile: look again.
	}
}

// Snapshot implements eventstore.Snapshots.
func (s *Store) Snapshot(ctx context.Context, game uuid.UUID) (eventstore.Snapshot, bool, error) {
	if err := s.check(game); err != nil {
		return eventstore.Snapshot{}, false, fmt.Errorf("snapshot %s: %w", game, err)
	}
	snap, _, ok, err := s.lastSnapshot(ctx, game)
	if err != nil {
		return eventstore.Snapshot{}, false, s.errStore("snapshot", game, err)
	}
	return snap, ok, nil
}

// lastSnapshot is the game's latest snapshot and its stream sequence (0:
// none).
func (s *Store) lastSnapshot(ctx context.Context, game uuid.UUID) (eventstore.Snapshot, uint64, bool, error) {
	m, ss, found, err := s.directMsg(ctx, s.snapSubject(game), map[string]any{"last_by_subj": s.snapSubject(game)})
	if err != nil || !found {
		return eventstore.Snapshot{}, 0, false, err
	}
	snap := eventstore.Snapshot{GameID: game, Data: m.Data}
	if snap.Seq, err = strconv.ParseUint(m.Header.Get(hdrSnapSeq), 10, 64); err != nil || snap.Seq == 0 {
		return eventstore.Snapshot{}, 0, false, fmt.Errorf("%w: snapshot at stream seq %d without a seq", errFormat, ss)
	}
	if err := snap.Hash.UnmarshalText([]byte(m.Header.Get(hdrSnapHash))); err != nil {
		return eventstore.Snapshot{}, 0, false, fmt.Errorf("%w: snapshot at stream seq %d: %v", errFormat, ss, err)
	}
	return snap, ss, true, nil
}
