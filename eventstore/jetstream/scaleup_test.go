package jetstream

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/internal/testkit/jscluster"
)

// A store opened while the stream had one replica, on a cluster, guards
// its reads against lagging replicas once the stream has three (another
// node started with -nats-replicas 3, or `nats stream edit`), without a
// restart: the replicas it read at Open no longer decide. A store on a
// server of its own keeps the unguarded reads.
func TestReadsGuardedAfterAScaleUp(t *testing.T) {
	c := jscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := Open(ctx, Config{URL: c.URL()}) // a new stream: R1
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, Config{URL: c.URL(), Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, err := b.js.Stream(ctx, b.cfg.Stream)
		if err == nil {
			if cl := st.CachedInfo().Cluster; cl != nil && cl.Leader != "" && len(cl.Replicas) == 2 &&
				cl.Replicas[0].Current && cl.Replicas[1].Current {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream has no 3 current replicas within 30 s")
		}
	}
	if a.Replicas() != 1 {
		t.Fatalf("the first store read %d replicas at Open, want 1: the test tests nothing", a.Replicas())
	}
	if !a.replicated() {
		t.Fatal("a store opened on R1 reads unguarded after the stream went to R3")
	}
	game := uuid.New()
	if _, err := b.Append(ctx, game, 0, pending("")); err != nil {
		t.Fatal(err)
	}
	if h, err := a.Head(ctx, game); h != 1 || err != nil {
		t.Fatalf("head through the first store: %d, %v", h, err)
	}

	solo := openTest(t, Config{Dir: t.TempDir()})
	defer solo.Close()
	if solo.replicated() {
		t.Fatal("a store on a server of its own guards against replicas it cannot have")
	}
}
