package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/internal/lru"
)

// gameIndex is this process's index of one game's messages. It may lag the
// log (another process appended); refresh brings it up to date, and every
// publish is guarded by the server, so a lagging index is never trusted to
// decide that a write is safe.
type gameIndex struct {
	mu       sync.Mutex // held across a refresh or an append of this game
	head     uint64     // seq of the last known event; 0: none known
	headHash eventstore.Hash
	lastSS   uint64   // stream sequence of the last known message
	msgs     []msgRef // known messages, in order
	ids      map[string]int
}

// locate returns the index of the message holding seq, or len(msgs).
func (g *gameIndex) locate(seq uint64) int {
	return sort.Search(len(g.msgs), func(i int) bool { return g.msgs[i].last >= seq })
}

func (g *gameIndex) add(r msgRef) {
	g.msgs = append(g.msgs, r)
	if r.msgID != "" {
		if g.ids == nil {
			g.ids = map[string]int{}
		}
		g.ids[r.msgID] = len(g.msgs) - 1
	}
	g.head, g.headHash, g.lastSS = r.last, r.lastHash, r.streamSeq
}

func newGameCache(max int) *lru.Cache[uuid.UUID, *gameIndex] {
	return lru.New[uuid.UUID, *gameIndex](max)
}

func newGameIndex() *gameIndex { return &gameIndex{} }

// refresh reads the index headers of every message of the game stored after
// g.lastSS. The caller holds g.mu.
func (s *Store) refresh(ctx context.Context, game uuid.UUID, g *gameIndex) error {
	return s.directGet(ctx, game, g.lastSS+1, 0, func(m *nats.Msg, ss uint64) error {
		r, err := headerRef(m.Header.Get(hdrIndex), ss)
		if err != nil {
			return err
		}
		if r.first != g.head+1 {
			return fmt.Errorf("%w at stream seq %d: seq %d follows %d", errFormat, ss, r.first, g.head)
		}
		g.add(r)
		return nil
	})
}

// directGet fetches the game's messages from stream sequence from on, in
// batches, through the stream's direct-get API, calling fn for each. max > 0
// stops after max messages. It returns nil when the subject has no more.
func (s *Store) directGet(ctx context.Context, game uuid.UUID, from uint64, max int, fn func(*nats.Msg, uint64) error) error {
	const batch = 256
	subject := s.subject(game)
	api := "$JS.API.DIRECT.GET." + s.cfg.Stream
	got := 0
	for {
		want := batch
		if max > 0 {
			want = min(batch, max-got)
		}
		req, _ := json.Marshal(struct {
			Seq     uint64 `json:"seq"`
			NextFor string `json:"next_by_subj"`
			Batch   int    `json:"batch"`
		}{from, subject, want})
		inbox := s.nc.NewRespInbox()
		sub, err := s.nc.SubscribeSync(inbox)
		if err != nil {
			return err
		}
		err = s.nc.PublishRequest(api, inbox, req)
		n, more, err2 := 0, false, err
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		for err2 == nil {
			var m *nats.Msg
			m, err2 = sub.NextMsgWithContext(rctx)
			if err2 != nil {
				break
			}
			switch m.Header.Get("Status") {
			case "404": // nothing at or after from
				more = false
			case "204": // end of batch
				pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				more = pending > 0
			case "":
				ss, perr := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
				if perr != nil {
					err2 = fmt.Errorf("%w: direct get reply without a sequence", errFormat)
					break
				}
				if err2 = fn(m, ss); err2 != nil {
					break
				}
				n++
				from = ss + 1
				continue
			default:
				err2 = fmt.Errorf("direct get %s: status %s %s", subject, m.Header.Get("Status"), m.Header.Get("Description"))
			}
			break
		}
		cancel()
		sub.Unsubscribe()
		if err2 != nil {
			return err2
		}
		got += n
		if !more || n == 0 || (max > 0 && got >= max) {
			return nil
		}
	}
}
