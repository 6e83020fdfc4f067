package jetstream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/internal/testkit/jscluster"
)

// On a 3-server cluster with R3, a conflict is a conflict (a clustered
// stream answers an expected-sequence mismatch with its own error code),
// and appends go on while the stream's leader is killed and after it
// comes back, losing nothing acknowledged.
func TestReplicatedStream(t *testing.T) {
	c := jscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	game := uuid.New()
	ev := func() eventstore.Pending {
		return eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "a", Data: []byte(`{}`)}
	}
	if _, err := s.Append(ctx, game, 0, ev()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, game, 0, ev()); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("a stale append on R3: %v, want ErrConflict", err)
	}
	js, err := natsjs.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, s.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	if cl := info.CachedInfo().Cluster; cl == nil || len(cl.Replicas) != 2 || s.Replicas() != 3 {
		t.Fatalf("stream cluster info %+v, replicas %d: want a leader and 2 replicas", cl, s.Replicas())
	}
	// A store opened without a number of replicas keeps the stream's.
	s2, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if info, err = js.Stream(ctx, s.StreamName()); err != nil || info.CachedInfo().Config.Replicas != 3 {
		t.Fatalf("after a store opened without replicas: %+v %v", info.CachedInfo().Config.Replicas, err)
	}
	leader := c.Leader(s.StreamName())
	c.Kill(leader)
	head := uint64(1)
	deadline := time.Now().Add(30 * time.Second)
	for head < 20 {
		// Each attempt has its own deadline: a publish in flight to the
		// killed server is never answered.
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := s.Append(actx, game, head, ev())
		acancel()
		switch {
		case err == nil:
			head = res.Last()
		case errors.Is(err, eventstore.ErrConflict):
			// An append whose acknowledgement was lost in the election
			// was stored: read the head again.
			hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
			if h, herr := s.Head(hctx, game); herr == nil {
				head = h
			}
			hcancel()
		case time.Now().After(deadline):
			t.Fatalf("no append within 30 s of killing the stream's leader: %v", err)
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
	c.Restart(leader)
	events, err := s.Read(ctx, game, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != int(head) {
		t.Fatalf("read %d events, head %d", len(events), head)
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, events); err != nil {
		t.Fatal(err)
	}
}
