package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/playlog/playlog/eventstore"
)

// directBatch is how many messages one direct get request asks for.
const directBatch = 256

// directSingles is how many messages directGet asks for one at a time
// before it asks for a batch; directSeqs, how many known messages
// directGetSeqs fetches one request each. A batch direct get makes the
// server count the subject's messages pending after its start, which scans
// the stream's message block from there: a cost that grows with the store
// (every game's messages in that block), not with the read. A single get
// counts nothing. Most reads are short (a resume, a refresh of an index
// that is one message behind, a duplicate's lookup).
const (
	directSingles = 2
	directSeqs    = 64
)

// directGet fetches the game's messages from stream sequence from on,
// through the stream's direct-get API (no consumer): the first few one at
// a time, the rest in batches. It calls fn for each. max > 0 stops after
// max messages. It returns nil when the subject has no more.
func (s *Store) directGet(ctx context.Context, game uuid.UUID, from uint64, max int, fn func(*nats.Msg, uint64) error) error {
	return s.directGetSubject(ctx, s.subject(game), from, max, fn)
}

// directGetSubject is directGet for any subject of the stream (a game's
// seals: seals.go).
func (s *Store) directGetSubject(ctx context.Context, subject string, from uint64, max int, fn func(*nats.Msg, uint64) error) error {
	api := "$JS.API.DIRECT.GET." + s.cfg.Stream
	got := 0
	for ; got < directSingles && (max == 0 || got < max); got++ {
		req, _ := json.Marshal(struct {
			Seq     uint64 `json:"seq"`
			NextFor string `json:"next_by_subj"`
		}{from, subject})
		replies, err := s.replies.many(ctx, s.cfg.RequestTimeout, api, [][]byte{req})
		if err != nil {
			return err
		}
		m := replies[0]
		switch m.Header.Get("Status") {
		case "404":
			return nil
		case "":
		default:
			return statusError(subject, m)
		}
		ss, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: direct get reply without a sequence", errFormat)
		}
		if err := fn(m, ss); err != nil {
			return err
		}
		from = ss + 1
	}
	for max == 0 || got < max {
		want := directBatch
		if max > 0 {
			want = min(directBatch, max-got)
		}
		req, _ := json.Marshal(struct {
			Seq     uint64 `json:"seq"`
			NextFor string `json:"next_by_subj"`
			Batch   int    `json:"batch"`
		}{from, subject, want})
		n, more, err := s.replies.batch(ctx, s.cfg.RequestTimeout, api, req, want, func(m *nats.Msg) (bool, error) {
			switch m.Header.Get("Status") {
			case "404": // nothing at or after from
				return false, errEnd
			case "204": // end of batch
				pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				if pending > 0 {
					return false, errMore
				}
				return false, errEnd
			case "":
				ss, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
				if err != nil {
					return false, fmt.Errorf("%w: direct get reply without a sequence", errFormat)
				}
				if err := fn(m, ss); err != nil {
					return false, err
				}
				from = ss + 1
				return true, nil
			default:
				return false, statusError(subject, m)
			}
		})
		if err != nil {
			return err
		}
		got += n
		if !more || n == 0 {
			return nil
		}
	}
	return nil
}

// directGetSeqs fetches the messages at stream sequences seqs, which the
// game's index holds, with one request each, all in flight at once, and
// calls fn for each in order. Past directSeqs of them it reads a batch
// from the first instead (see directSingles for why not always).
func (s *Store) directGetSeqs(ctx context.Context, game uuid.UUID, seqs []uint64, fn func(*nats.Msg, uint64) error) error {
	if len(seqs) == 0 {
		return nil
	}
	if len(seqs) > directSeqs {
		n := 0
		err := s.directGet(ctx, game, seqs[0], len(seqs), func(m *nats.Msg, ss uint64) error {
			if n < len(seqs) && ss != seqs[n] {
				return fmt.Errorf("%w: stream seq %d of %s, found %d", errGone, seqs[n], game, ss)
			}
			n++
			return fn(m, ss)
		})
		if err == nil && n < len(seqs) {
			err = fmt.Errorf("%w: stream seq %d of %s", errGone, seqs[n], game)
		}
		return err
	}
	reqs := make([][]byte, len(seqs))
	for i, seq := range seqs {
		reqs[i] = strconv.AppendUint([]byte(`{"seq":`), seq, 10)
		reqs[i] = append(reqs[i], '}')
	}
	var replies []*nats.Msg
	missing := func() bool {
		for _, m := range replies {
			if m.Header.Get("Status") == "404" {
				return true
			}
		}
		return false
	}
	var err error
	if replies, err = s.replies.many(ctx, s.cfg.RequestTimeout, "$JS.API.DIRECT.GET."+s.cfg.Stream, reqs); err != nil {
		return err
	}
	if missing() && s.replicated() {
		// A follower that has not applied the message yet answers 404 for
		// it too (refresh's caughtUp): ask again, a little later, before
		// concluding the message is gone.
		for wait := time.Millisecond; missing() && wait < 200*time.Millisecond; wait *= 2 {
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			if replies, err = s.replies.many(ctx, s.cfg.RequestTimeout, "$JS.API.DIRECT.GET."+s.cfg.Stream, reqs); err != nil {
				return err
			}
		}
	}
	bySeq := make(map[uint64]*nats.Msg, len(replies))
	for _, m := range replies {
		if st := m.Header.Get("Status"); st == "404" {
			return fmt.Errorf("%w: direct get of an indexed message of %s", errGone, game)
		} else if st == "503" {
			return statusError(s.subject(game), m)
		} else if st != "" {
			return fmt.Errorf("%w: direct get of an indexed message of %s: status %s %s", errFormat, game, st, m.Header.Get("Description"))
		}
		ss, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: direct get reply without a sequence", errFormat)
		}
		bySeq[ss] = m
	}
	for _, seq := range seqs {
		m := bySeq[seq]
		if m == nil || m.Header.Get("Nats-Subject") != s.subject(game) {
			return fmt.Errorf("%w: stream seq %d is not a message of %s", errFormat, seq, game)
		}
		if err := fn(m, seq); err != nil {
			return err
		}
	}
	return nil
}

// statusError is a direct get's answer with an error status: 503 (no
// leader, no quorum) is ErrUnavailable.
func statusError(subject string, m *nats.Msg) error {
	st := m.Header.Get("Status")
	if st == "503" {
		return fmt.Errorf("direct get %s: status %s %s: %w", subject, st, m.Header.Get("Description"), eventstore.ErrUnavailable)
	}
	return fmt.Errorf("direct get %s: status %s %s", subject, st, m.Header.Get("Description"))
}

// errGone: a message this process's index of a game holds is no longer in
// the stream: the game was removed (Remove, in this or another process),
// and maybe stored again since. Whoever meets it rebuilds the index.
var errGone = fmt.Errorf("%w: an indexed message is gone from the stream", errFormat)

// Sentinels of one batch's reply stream, never returned to callers.
var (
	errEnd  = fmt.Errorf("end of replies")
	errMore = fmt.Errorf("end of batch, more pending")
)

// replyMux receives the replies of every direct get of the store on one
// wildcard subscription, "<inbox>.*", and routes each to the request named
// by its last token. A request costs a map entry and a channel sized to its
// batch, not a subscription: nats.go's SubscribeSync allocates a 64k-slot
// channel per call, which made reads allocation-bound.
type replyMux struct {
	nc     *nats.Conn
	prefix string

	once sync.Once
	sub  *nats.Subscription
	err  error

	mu      sync.Mutex
	pending map[string]chan *nats.Msg
}

func newReplyMux(nc *nats.Conn) *replyMux {
	return &replyMux{nc: nc, prefix: nc.NewInbox(), pending: map[string]chan *nats.Msg{}}
}

func (r *replyMux) start() error {
	r.once.Do(func() {
		r.sub, r.err = r.nc.Subscribe(r.prefix+".*", r.route)
		if r.err == nil {
			// Replies of one request arrive in order on this subscription; the
			// connection's limits, not the default 64k, bound what it buffers.
			r.err = r.sub.SetPendingLimits(-1, 64<<20)
		}
	})
	return r.err
}

// route runs on the subscription's goroutine. A request's channel holds its
// whole batch, so a send blocks only if the server sent more than asked; such
// extra replies are dropped, and the request times out or sees its end.
func (r *replyMux) route(m *nats.Msg) {
	token := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	r.mu.Lock()
	ch := r.pending[token]
	r.mu.Unlock()
	if ch == nil {
		return // a request that gave up
	}
	select {
	case ch <- m:
	default:
	}
}

// open registers a request expecting want replies: its reply subject, the
// channel they arrive on, and done, which forgets it.
func (r *replyMux) open(want int) (reply string, ch chan *nats.Msg, done func(), err error) {
	if err := r.start(); err != nil {
		return "", nil, nil, err
	}
	token := nuid.Next()
	ch = make(chan *nats.Msg, want+2)
	r.mu.Lock()
	r.pending[token] = ch
	r.mu.Unlock()
	return r.prefix + "." + token, ch, func() {
		r.mu.Lock()
		delete(r.pending, token)
		r.mu.Unlock()
	}, nil
}

// batch publishes req to subject and hands each reply to fn until fn returns
// false (with errEnd: done; errMore: done, the server has more) or an error,
// or the timeout passes. It returns how many replies fn accepted (true).
func (r *replyMux) batch(ctx context.Context, timeout time.Duration, subject string, req []byte, want int, fn func(*nats.Msg) (bool, error)) (n int, more bool, err error) {
	reply, ch, done, err := r.open(want)
	if err != nil {
		return 0, false, err
	}
	defer done()
	if err := r.nc.PublishRequest(subject, reply, req); err != nil {
		return 0, false, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		select {
		case m := <-ch:
			ok, err := fn(m)
			switch {
			case ok:
				n++
			case err == errEnd:
				return n, false, nil
			case err == errMore:
				return n, true, nil
			default:
				return n, false, err
			}
		case <-rctx.Done():
			if ctx.Err() != nil {
				return n, false, ctx.Err()
			}
			return n, false, fmt.Errorf("direct get %s: no reply within %v: %w", subject, timeout, nats.ErrTimeout)
		}
	}
}

// many publishes each of reqs to subject and returns one reply to each,
// in the order they arrive, or fails after the timeout.
func (r *replyMux) many(ctx context.Context, timeout time.Duration, subject string, reqs [][]byte) ([]*nats.Msg, error) {
	reply, ch, done, err := r.open(len(reqs))
	if err != nil {
		return nil, err
	}
	defer done()
	for _, req := range reqs {
		if err := r.nc.PublishRequest(subject, reply, req); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := make([]*nats.Msg, 0, len(reqs))
	for len(out) < len(reqs) {
		select {
		case m := <-ch:
			out = append(out, m)
		case <-rctx.Done():
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("direct get %s: %d of %d replies within %v: %w", subject, len(out), len(reqs), timeout, nats.ErrTimeout)
		}
	}
	return out, nil
}

// stop ends the subscription. Safe to call once the connection is closed.
func (r *replyMux) stop() {
	r.once.Do(func() { r.err = nats.ErrConnectionClosed }) // orders the read of r.sub after start's write
	if r.sub != nil {
		r.sub.Unsubscribe()
	}
}
