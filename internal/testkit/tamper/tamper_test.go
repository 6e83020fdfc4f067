package tamper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/postgres"
	"github.com/playlog/playlog/internal/testkit/pgtest"
	"github.com/playlog/playlog/internal/testkit/tamper"
)

var at = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func logOf(game uuid.UUID, n int) []eventstore.Event {
	p := make([]eventstore.Pending, n)
	for i := range p {
		p[i] = eventstore.Pending{Type: "action", SchemaVersion: 1, Actor: "alice", MessageID: "m",
			Data: []byte(`{"actor":"alice","action":{"type":"place","cell":4},"note":"\u00e9\"x"}`)}
	}
	return eventstore.Stamp(game, 0, eventstore.Hash{}, at, p)
}

func TestHelpers(t *testing.T) {
	game := uuid.New()
	log := logOf(game, 5)
	keep := func() []eventstore.Event { return logOf(game, 5) }
	for i := range log {
		e := tamper.Edit(log, i)
		if !json.Valid(e[i].Data) || bytes.Equal(e[i].Data, log[i].Data) || len(e[i].Data) != len(log[i].Data) {
			t.Fatalf("Edit(%d): %s", i, e[i].Data)
		}
		if eventstore.VerifyChain(eventstore.Hash{}, e) == nil {
			t.Fatalf("Edit(%d) left the chain sound", i)
		}
		if r := tamper.Rechain(e); eventstore.VerifyChain(eventstore.Hash{}, r) != nil {
			t.Fatalf("Rechain(Edit(%d)): %v", i, eventstore.VerifyChain(eventstore.Hash{}, r))
		}
	}
	if d := tamper.Delete(log, 2); len(d) != 4 || d[2].Seq != 4 {
		t.Fatalf("Delete: %v", d)
	}
	if d := tamper.Renumber(tamper.Delete(log, 2)); d[2].Seq != 3 || d[2].Hash != log[3].Hash {
		t.Fatalf("Renumber")
	}
	if s := tamper.Swap(log, 1); s[1].Seq != 3 || s[2].Seq != 2 {
		t.Fatalf("Swap")
	}
	f := tamper.Forge(log, 5)
	if err := eventstore.VerifyChain(eventstore.Hash{}, tamper.Insert(log, 5, f)); err != nil {
		t.Fatalf("a forged append breaks the chain: %v", err)
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, tamper.Insert(log, 2, tamper.Forge(log, 2))); err == nil {
		t.Fatal("a forged insertion kept the chain")
	}
	if err := eventstore.VerifyChain(eventstore.Hash{}, tamper.Rechain(tamper.Insert(log, 0, tamper.Forge(log, 0)))); err != nil {
		t.Fatal(err)
	}
	if tr := tamper.Truncate(log, 2); len(tr) != 2 {
		t.Fatal("Truncate")
	}
	other := uuid.New()
	if r := tamper.Reassign(log, other); r[0].GameID != other {
		t.Fatal("Reassign")
	}
	for i, e := range keep() {
		if !bytes.Equal(e.Data, log[i].Data) || e.Hash != log[i].Hash || e.Seq != log[i].Seq {
			t.Fatal("a helper changed its argument")
		}
	}
}

// roundTrip tampers with a game and reads it back through a new store.
func roundTrip(t *testing.T, open func() eventstore.Store, tool func(eventstore.Store) tamper.Tool, disorder bool) {
	ctx := context.Background()
	s := open()
	game := uuid.New()
	p := func(n int, id string) []eventstore.Pending {
		out := make([]eventstore.Pending, n)
		for i := range out {
			out[i] = eventstore.Pending{Type: "action", SchemaVersion: 1, Actor: "alice", MessageID: id, Data: []byte(`{"n":"abc"}`)}
		}
		return out
	}
	if _, err := s.Append(ctx, game, 0, p(2, "a")...); err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(ctx, game, 2, p(3, "b")...)
	if err != nil {
		t.Fatal(err)
	}
	seal := eventstore.Seal{GameID: game, Seq: 5, Hash: res.Events[2].Hash, Kind: eventstore.SealFinal, KeyID: "k", Signature: make([]byte, 64), SealedAt: at}
	if err := s.(eventstore.Sealed).PutSeal(ctx, seal); err != nil {
		t.Fatal(err)
	}
	log, err := s.Read(ctx, game, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	tampered := [][]eventstore.Event{
		tamper.Edit(log, 3),
		tamper.Delete(log, 2),
		tamper.Renumber(tamper.Swap(log, 1)),
		tamper.Rechain(tamper.Insert(log, 1, tamper.Forge(log, 1))),
		tamper.Truncate(log, 3),
	}
	if disorder {
		tampered = append(tampered, tamper.Swap(log, 3), tamper.Insert(log, 2, log[1]))
	}
	tl := tool(s)
	for round, events := range tampered {
		if err := tl.Replace(ctx, game, events); err != nil {
			t.Fatal(err)
		}
		seals := []eventstore.Seal{seal}
		if round%2 == 1 {
			seals = nil
		}
		if err := tl.ReplaceSeals(ctx, game, seals); err != nil {
			t.Fatal(err)
		}
		fresh := open()
		got, err := fresh.Read(ctx, game, 0, 0)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(got) != len(events) {
			t.Fatalf("round %d: %d events read, %d stored", round, len(got), len(events))
		}
		for i := range got {
			g, w := got[i], events[i]
			if g.Seq != w.Seq || g.Hash != w.Hash || g.PrevHash != w.PrevHash || !bytes.Equal(g.Data, w.Data) ||
				!g.RecordedAt.Equal(w.RecordedAt) || g.MessageID != w.MessageID || g.Type != w.Type || g.Actor != w.Actor {
				t.Fatalf("round %d, event %d: read %+v, stored %+v", round, i, g, w)
			}
		}
		gotSeals, err := fresh.(eventstore.Sealed).Seals(ctx, game)
		if err != nil || len(gotSeals) != len(seals) {
			t.Fatalf("round %d: seals %v, %v", round, gotSeals, err)
		}
		fresh.Close()
	}
	if err := tl.Replace(ctx, game, nil); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := open()
	if _, err := fresh.(eventstore.Sealed).Seals(ctx, game); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("seals of a removed game: %v", err)
	}
	fresh.Close()
	s.Close()
}

func TestPostgres(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	schema := pgtest.NewSchema("tamper")
	open := func() eventstore.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: cluster.URL, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	roundTrip(t, open, func(s eventstore.Store) tamper.Tool { return tamper.Postgres(s.(*postgres.Store).Pool()) }, false)
	// A reordered log cannot be stored in seq order.
	s := open()
	game := uuid.New()
	log := logOf(game, 3)
	if err := tamper.Postgres(s.(*postgres.Store).Pool()).Replace(context.Background(), game, tamper.Swap(log, 0)); err == nil {
		t.Fatal("a log out of seq order was stored")
	}
}

func TestJetStream(t *testing.T) {
	for _, denyPurge := range []bool{false, true} {
		name := "purge allowed"
		if denyPurge {
			name = "deny_purge stream"
		}
		t.Run(name, func(t *testing.T) {
			host, err := jetstream.Open(context.Background(), jetstream.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer host.Close()
			open := func() eventstore.Store {
				s, err := jetstream.Open(context.Background(), jetstream.Config{URL: host.ClientURL()})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			if denyPurge {
				// A stream created before archiving, with deny_purge
				// (JetStream then keeps it; the store's Open does too).
				s := host
				js, _ := natsjs.New(s.Conn())
				st, err := js.Stream(context.Background(), s.StreamName())
				if err != nil {
					t.Fatal(err)
				}
				cfg := st.CachedInfo().Config
				if !cfg.DenyPurge {
					cfg.DenyPurge = true
					if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
						t.Fatal(err)
					}
				}
			}
			tool := func(s eventstore.Store) tamper.Tool {
				js := s.(*jetstream.Store)
				return tamper.JetStream(js.Conn(), js.StreamName(), "playlog.game")
			}
			roundTrip(t, open, tool, true)
			// The stream's protections are back, and a store opens on it.
			s := open().(*jetstream.Store)
			defer s.Close()
			js, _ := natsjs.New(s.Conn())
			st, err := js.Stream(context.Background(), s.StreamName())
			if err != nil {
				t.Fatal(err)
			}
			if cfg := st.CachedInfo().Config; cfg.DenyPurge != denyPurge || !cfg.DenyDelete {
				t.Fatalf("after tampering: deny_purge %v, deny_delete %v", cfg.DenyPurge, cfg.DenyDelete)
			}
		})
	}
}
