package main

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/open"
	"github.com/playlog/playlog/projections/projtest"
)

// gatedStore holds the rebuild's first Feed until release is closed.
type gatedStore struct {
	eventstore.Store
	once    sync.Once
	opened  chan struct{}
	release chan struct{}
}

func (g *gatedStore) Unwrap() eventstore.Store { return g.Store }
func (g *gatedStore) Feed(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	g.once.Do(func() { close(g.opened) })
	<-g.release
	return g.Store.Feed(ctx, from)
}

// TestRebuildRacingALiveRunnerFinishes: `playlog projections rebuild
// history` while a playlogd's history runner follows the log. After the
// reset, one more game is played; the live runner sees the checkpoint moved
// back and refolds the whole log first. The rebuild's runner then finds
// every batch already committed (MovedError ahead) and folds nothing
// itself: it learns from OnCommit's 0-event calls that the model has
// reached its end, and finishes (it once waited until interrupted).
func TestRebuildRacingALiveRunnerFinishes(t *testing.T) {
	ctx := context.Background()
	s, err := jetstream.Open(ctx, jetstream.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := projtest.Service(t, s)
	projtest.Play(t, ctx, svc, 0, 4)

	live, err := open.History(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	h, err := jsproj.OpenHistory(ctx, s.Conn(), jsproj.Config{})
	if err != nil {
		t.Fatal(err)
	}
	waitCP := func(end eventstore.Position) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			cp, err := h.Checkpoints().Checkpoint(ctx)
			if err == nil && !cp.Less(end) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("checkpoint %s, want %s", cp, end)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	opts := projtest.Fast()
	opts.CommitInterval = 10 * time.Millisecond
	go live.Run(liveCtx, s, opts)
	end, _, _ := live.End(ctx)
	waitCP(end)

	g := &gatedStore{Store: s, opened: make(chan struct{}), release: make(chan struct{})}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := rebuildHistory(rctx, g, 1000, io.Discard)
		done <- err
	}()
	<-g.opened // the model has been reset
	projtest.Play(t, ctx, svc, 4, 1)
	end2, _, _ := live.End(ctx)
	waitCP(end2) // the live runner rewound and refolded the log
	close(g.release)
	if err := <-done; err != nil {
		cp, _ := h.Checkpoints().Checkpoint(ctx)
		t.Fatalf("rebuild: %v (model checkpoint %s, rebuild's end %s)", err, cp, end)
	}
	_ = projections.HistoryQuery{}
}
