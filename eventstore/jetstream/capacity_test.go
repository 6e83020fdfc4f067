package jetstream

// What a game costs the JetStream server and this process: memory per
// subject (the server keeps an index of every subject of every stream in
// memory), this process's index of a game, bytes on disk, and how long a
// restart takes to load it all. The figures are in docs/performance.md,
// "Capacity"; docs/operations.md builds its capacity model on them.
//
// Everything runs in one process (the embedded server beside the store),
// so the heap measured is the whole process's: the server's share is what
// stays once this process's index of the games is dropped.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/storetest"
	"github.com/playlog/playlog/internal/testkit/jscluster"
	"github.com/playlog/playlog/internal/testkit/measure"
)

var (
	capacityGames  = flag.Int("capacity.games", 10000, "games written by BenchmarkSubjectMemory and BenchmarkSubjectMemoryCluster")
	capacitySettle = flag.Duration("capacity.settle", 12*time.Second, "wait before the measurement after writing, past the server's block cache expiry (10 s)")
	capacityIdle   = flag.Duration("capacity.idle", 0, "wait after a restart before measuring again, past the server's expiry of idle blocks' per-subject state (2 min): 150s measures the subject index alone")
)

// capacityShape is what one game leaves in JetStream.
type capacityShape struct {
	name     string
	stream   string // the stream it writes to
	subjects int    // subjects per game
	msgs     int    // messages per game
	// prepare makes what the shape needs (a bucket) before the baseline
	// is measured, and returns the writes of one game.
	prepare func(ctx context.Context, s *Store) (func(ctx context.Context, game uuid.UUID) error, error)
}

// createdData is a game_created event's data as play writes it.
var createdData = func() []byte {
	b, _ := json.Marshal(engine.GameCreated{Game: "tictactoe", Players: []string{"alice-0000000001", "bob-0000000002"},
		Config: json.RawMessage(`{}`), Commitment: strings.Repeat("ab", 32)})
	return b
}()

var capacityShapes = []capacityShape{
	{
		// A game just created: one append, one subject.
		name: "log/events=1", stream: "PLAYLOG", subjects: 1, msgs: 1,
		prepare: func(_ context.Context, s *Store) (func(context.Context, uuid.UUID) error, error) {
			return func(ctx context.Context, game uuid.UUID) error {
				_, err := s.Append(ctx, game, 0, eventstore.Pending{Type: "game_created", SchemaVersion: 1, Actor: "alice-0000000001", Data: createdData})
				return err
			}, nil
		},
	},
	{
		// A game in play: four appends and a checkpoint seal, its
		// events' subject and its seals' subject.
		name: "log/events=4+seal", stream: "PLAYLOG", subjects: 2, msgs: 5,
		prepare: func(_ context.Context, s *Store) (func(context.Context, uuid.UUID) error, error) {
			return func(ctx context.Context, game uuid.UUID) error {
				res, err := s.Append(ctx, game, 0, eventstore.Pending{Type: "game_created", SchemaVersion: 1, Actor: "alice-0000000001", Data: createdData})
				for seq := uint64(1); seq < 4 && err == nil; seq++ {
					res, err = s.Append(ctx, game, seq, eventstore.Pending{Type: "moved", SchemaVersion: 1, Actor: "alice-0000000001",
						MessageID: fmt.Sprintf("alice-0000000001/m%d", seq), Data: storetest.BenchData})
				}
				if err != nil {
					return err
				}
				last := res.Events[len(res.Events)-1]
				return s.PutSeal(ctx, eventstore.Seal{GameID: game, Seq: last.Seq, Hash: last.Hash, Kind: eventstore.SealCheckpoint,
					KeyID: "fb7970219e26d1f4", Signature: make([]byte, 64)})
			}, nil
		},
	},
	{
		// A finished game in the history projection's bucket: its record
		// and one per player (projections/jsproj, history.go).
		name: "history-kv/keys=3", stream: "KV_playlog_history", subjects: 3, msgs: 3,
		prepare: func(ctx context.Context, s *Store) (func(context.Context, uuid.UUID) error, error) {
			kv, err := s.js.CreateKeyValue(ctx, natsjs.KeyValueConfig{Bucket: "playlog_history", History: 1, Storage: natsjs.FileStorage})
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, game uuid.UUID) error {
				rec := fmt.Appendf(nil, `{"game_id":"%s","rules":"tictactoe","players":["alice-0000000001","bob-0000000002"],"winner":"alice-0000000001","events":13,"created_at":"2026-12-01T08:00:00.123456Z","ended_at":"2026-12-01T08:03:00.123456Z"}`, game)
				for _, key := range []string{"g1.game." + game.String(), "g1.user.YWxpY2UtMDAwMDAwMDAwMQ.1796112180123456." + game.String(),
					"g1.user.Ym9iLTAwMDAwMDAwMDI.1796112180123456." + game.String()} {
					if _, err := kv.Put(ctx, key, rec); err != nil {
						return err
					}
				}
				return nil
			}, nil
		},
	},
	{
		// An archived game: one object (its gzipped export, 1 340 bytes for
		// a finished tictactoe game), a metadata subject and a chunk subject.
		name: "archive-objects/objects=1", stream: "OBJ_playlog_archive", subjects: 2, msgs: 2,
		prepare: func(ctx context.Context, s *Store) (func(context.Context, uuid.UUID) error, error) {
			obj, err := s.js.CreateObjectStore(ctx, natsjs.ObjectStoreConfig{Bucket: "playlog_archive", Storage: natsjs.FileStorage})
			if err != nil {
				return nil, err
			}
			blob := make([]byte, 1340)
			rand.Read(blob) // gzip output does not compress further
			return func(ctx context.Context, game uuid.UUID) error {
				_, err := obj.PutBytes(ctx, game.String(), blob)
				return err
			}, nil
		},
	},
}

// capacity is one measurement: heap figures are whole-process bytes above
// the baseline (the store open, its bucket made, nothing written).
type capacity struct {
	games             int
	subjects, msgs    uint64 // as the server counts them
	writeTook         time.Duration
	hot               int64 // after writing and settling: the server's state and this process's index
	server            int64 // the same without this process's index: the server's share
	restart           int64 // after a clean restart (the server loaded its index.db)
	idle              int64 // the same, -capacity.idle later (0: not measured)
	recovered         int64 // after a restart without index.db (as after a crash with a stale one)
	restartTook       time.Duration
	recoverTook       time.Duration
	disk, diskBlocks  int64 // the stream's files after a clean stop; its message blocks alone
	recoveredSubjects uint64
}

func (c capacity) report(b *testing.B, shape capacityShape) {
	n := float64(c.games)
	b.ReportMetric(float64(c.server)/n, "server-B/game")
	b.ReportMetric(float64(c.server)/n/float64(shape.subjects), "server-B/subject")
	b.ReportMetric(float64(c.hot-c.server)/n, "index-B/game")
	b.ReportMetric(float64(c.restart)/n, "restarted-B/game")
	b.ReportMetric(float64(c.restart)/n/float64(shape.subjects), "restarted-B/subject")
	if c.idle != 0 {
		b.ReportMetric(float64(c.idle)/n/float64(shape.subjects), "idle-B/subject")
	}
	b.ReportMetric(float64(c.recovered)/n, "recovered-B/game")
	b.ReportMetric(float64(c.disk)/n, "disk-B/game")
	b.ReportMetric(float64(c.diskBlocks)/float64(c.msgs), "blocks-B/msg")
	b.ReportMetric(float64(c.restartTook.Milliseconds()), "restart-ms")
	b.ReportMetric(float64(c.recoverTook.Milliseconds()), "recover-ms")
	b.ReportMetric(n/c.writeTook.Seconds(), "games/s")
}

// BenchmarkSubjectMemory writes -capacity.games games of each shape to an
// embedded server and measures what they cost: the server's memory per
// subject while running (its subject index and the recent blocks'
// per-subject state) and after a restart (the subject index alone), this
// process's index per game, the bytes on disk, and the restart's time with
// the server's saved index (index.db) and without it. With -capacity.idle
// 150s it measures again once the restarted server has let go of idle
// blocks' per-subject state (2 minutes), which leaves its subject index.
//
//	go test -run '^$' -bench 'SubjectMemory$' -benchtime 1x -timeout 1h ./eventstore/jetstream -args -capacity.games=100000 -capacity.idle=150s
func BenchmarkSubjectMemory(b *testing.B) {
	for _, shape := range capacityShapes {
		b.Run(shape.name, func(b *testing.B) {
			for range b.N {
				measureCapacity(b, shape, *capacityGames, *capacitySettle, *capacityIdle).report(b, shape)
			}
		})
	}
}

// TestCapacityMeasurement runs BenchmarkSubjectMemory's measurement on a few
// games of each shape, so that it keeps working; the figures themselves
// need the benchmark's numbers of games.
func TestCapacityMeasurement(t *testing.T) {
	for _, shape := range capacityShapes {
		t.Run(shape.name, func(t *testing.T) {
			c := measureCapacity(t, shape, 50, 0, 0)
			if c.subjects != uint64(50*shape.subjects) || c.msgs != uint64(50*shape.msgs) || c.recoveredSubjects != c.subjects {
				t.Fatalf("%d subjects and %d messages (%d after recovery), want %d and %d",
					c.subjects, c.msgs, c.recoveredSubjects, 50*shape.subjects, 50*shape.msgs)
			}
			if c.disk <= 0 || c.diskBlocks <= 0 {
				t.Fatalf("disk %d bytes, blocks %d bytes", c.disk, c.diskBlocks)
			}
		})
	}
}

func measureCapacity(tb testing.TB, shape capacityShape, games int, settle, idle time.Duration) capacity {
	ctx := context.Background()
	dir := tb.TempDir()
	cfg := Config{Dir: dir, CachedGames: games + 16}
	open := func() *Store {
		s, err := Open(ctx, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	s := open()
	write, err := shape.prepare(ctx, s)
	if err != nil {
		tb.Fatal(err)
	}
	c := capacity{games: games}
	base := measure.LiveHeap()
	ids := make([]uuid.UUID, games)
	for i := range ids {
		ids[i] = uuid.New()
	}
	start := time.Now()
	measure.Parallel(tb, games, 64, func(i int) error { return write(ctx, ids[i]) })
	c.writeTook = time.Since(start)
	c.subjects, c.msgs = streamCounts(tb, s, shape.stream)
	time.Sleep(settle)
	c.hot = measure.LiveHeap() - base
	s.games = newGameCache(cfg.CachedGames) // forget every game's index
	c.server = measure.LiveHeap() - base
	s.Close()
	c.disk, c.diskBlocks = streamBytes(tb, dir, shape.stream)

	start = time.Now()
	s = open()
	c.restartTook = time.Since(start)
	c.restart = measure.LiveHeap() - base
	if idle > 0 {
		time.Sleep(idle)
		c.idle = measure.LiveHeap() - base
	}
	s.Close()

	// Without the saved index the server rebuilds it from the blocks.
	removeIndexes(tb, dir)
	start = time.Now()
	s = open()
	c.recoverTook = time.Since(start)
	c.recovered = measure.LiveHeap() - base
	c.recoveredSubjects, _ = streamCounts(tb, s, shape.stream)
	s.Close()
	return c
}

// BenchmarkSubjectMemoryCluster writes -capacity.games games of one event
// each to a stream of 1 and of 3 replicas on a 3-server cluster in this
// process, and measures the three servers' memory together.
//
//	go test -run '^$' -bench SubjectMemoryCluster -benchtime 1x ./eventstore/jetstream -args -capacity.games=100000
func BenchmarkSubjectMemoryCluster(b *testing.B) {
	shape := capacityShapes[0]
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			for range b.N {
				ctx := context.Background()
				cl := jscluster.Start(b)
				s, err := Open(ctx, Config{URL: cl.URL(), Replicas: replicas, CachedGames: *capacityGames + 16})
				if err != nil {
					b.Fatal(err)
				}
				write, _ := shape.prepare(ctx, s)
				base := measure.LiveHeap()
				start := time.Now()
				measure.Parallel(b, *capacityGames, 64, func(int) error { return write(ctx, uuid.New()) })
				took := time.Since(start)
				time.Sleep(*capacitySettle)
				s.games = newGameCache(*capacityGames)
				n := float64(*capacityGames)
				b.ReportMetric(float64(measure.LiveHeap()-base)/n, "servers-B/game")
				b.ReportMetric(n/took.Seconds(), "games/s")
				s.Close()
			}
		})
	}
}

func streamCounts(tb testing.TB, s *Store, name string) (subjects, msgs uint64) {
	st, err := s.js.Stream(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	state := st.CachedInfo().State
	return uint64(state.NumSubjects), state.Msgs
}

// streamBytes sums the stream's files under the embedded server's
// directory, and its message blocks alone.
func streamBytes(tb testing.TB, dir, stream string) (all, blocks int64) {
	root := filepath.Join(dir, "jetstream", "$G", "streams", stream)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		all += info.Size()
		if strings.HasSuffix(path, ".blk") {
			blocks += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return all, blocks
}

// removeIndexes deletes every stream's saved state (index.db), as a crash
// leaves it stale.
func removeIndexes(tb testing.TB, dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "*", "msgs", "index.db"))
	if len(matches) == 0 {
		tb.Fatal("no index.db found")
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkBusPublish: how many presence-sized messages a second the bus
// between nodes carries (core NATS, outside the stream), published from 32
// goroutines of one process and received by another connected over TCP,
// as a second node would be. Compare eventstore/postgres's, one NOTIFY each.
//
//	go test -run '^$' -bench BusPublish -benchtime 200000x ./eventstore/jetstream
func BenchmarkBusPublish(b *testing.B) {
	ctx := context.Background()
	sender, err := Open(ctx, Config{Dir: b.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	receiver, err := Open(ctx, Config{URL: sender.ClientURL()})
	if err != nil {
		b.Fatal(err)
	}
	defer receiver.Close()
	var got atomic.Int64
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go receiver.Bus("presence").Subscribe(sctx, func([]byte) { got.Add(1) })
	time.Sleep(200 * time.Millisecond) // the subscription is in place
	msg := fmt.Appendf(nil, `{"node":"%s","game":"%s","players":["alice-0000000001","bob-0000000002"],"spectators":0}`, uuid.New(), uuid.New())
	bus := sender.Bus("presence")
	start := time.Now()
	storetest.Concurrently(b, 32, func(int, int) error { return bus.Publish(ctx, msg) })
	sender.nc.Flush()
	for deadline := time.Now().Add(30 * time.Second); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(float64(got.Load())/time.Since(start).Seconds(), "received/s")
	b.ReportMetric(float64(got.Load())/float64(b.N), "received/published")
}
