package postgres

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// TestPublishReplacesEqual: a bus message equal to one still queued takes
// its place at the end (PostgreSQL would deliver only the first of two
// equal notifications of a transaction, and the later is the one that
// counts); others keep their order; a full queue refuses.
func TestPublishReplacesEqual(t *testing.T) {
	h := newHub()
	for _, p := range []string{"a", "b", "a", "c"} {
		if !h.publish("bus", p) {
			t.Fatalf("publish %q refused", p)
		}
	}
	want := []busMsg{{"bus", "b"}, {"bus", "a"}, {"bus", "c"}}
	if !reflect.DeepEqual(h.bus, want) {
		t.Fatalf("queued %v, want %v", h.bus, want)
	}
	big := string(make([]byte, maxBusBytes))
	if h.publish("bus", big) {
		t.Fatal("a message over the queue's bound was taken")
	}
	// A full queue still takes a message equal to one it holds: the
	// replacement frees its bytes first.
	h = newHub()
	full := string(make([]byte, maxBusBytes))
	if !h.publish("bus", full) || !h.publish("bus", full) {
		t.Fatal("a message replacing its equal in a full queue was refused")
	}
}

// TestPushBoundsBytes: a game subscription that does not take what it is
// handed drops it past 1 MiB of data (not only past 256 events) and reads
// the log instead; the events' Data is copied once per append and shared
// by the game's subscriptions, not the appender's.
func TestPushBoundsBytes(t *testing.T) {
	h := newHub()
	game := uuid.New()
	subs := []*pollSub{{game: game, wake: make(chan struct{}, 1)}, {game: game, wake: make(chan struct{}, 1)}}
	for _, sub := range subs {
		h.add(sub)
	}
	data := make([]byte, 64<<10)
	h.appended(game, []eventstore.Event{{Seq: 1, Data: data}})
	a, b := subs[0].pushed[0].Data, subs[1].pushed[0].Data
	if &a[0] != &b[0] || &a[0] == &data[0] {
		t.Fatal("Data not copied once and shared")
	}
	for seq := uint64(2); seq <= 16; seq++ { // 16 of 64 KiB: 1 MiB
		h.appended(game, []eventstore.Event{{Seq: seq, Data: data}})
	}
	if n := len(subs[0].pushed); n != 16 || subs[0].stale {
		t.Fatalf("%d held (stale %v), want 16", n, subs[0].stale)
	}
	h.appended(game, []eventstore.Event{{Seq: 17, Data: data}})
	if n := len(subs[0].pushed); n != 0 || !subs[0].stale || subs[0].pushedBytes != 0 {
		t.Fatalf("%d held past 1 MiB (stale %v)", n, subs[0].stale)
	}
}

// TestNotifierWarns: failed sends are logged at Warn, at most once per
// notifyWarnEvery.
func TestNotifierWarns(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logged, mu: &mu}, nil))
	h := newHub()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sends := make(chan struct{}, 10)
	go func() {
		defer close(done)
		h.runNotifier(ctx, 0, "@o", "ev", log, func(context.Context, []string, []string) error {
			sends <- struct{}{}
			return errors.New("boom")
		})
	}()
	for range 3 {
		h.publish("bus", "x")
		<-sends
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for 3 failed sends, want 1:\n%s", n, logged.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
