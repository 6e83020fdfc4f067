package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/engine/games/tictactoe"
	"github.com/playlog/playlog/protocol"
)

// Bounds of one bench run.
const (
	maxBenchGames = 5000
	maxBenchTime  = time.Hour       // warmup + duration
	benchDrain    = 3 * time.Second // after the window: resign unfinished games
	errorPause    = 100 * time.Millisecond
)

// drawCells is the order in which every bench player picks a cell: the
// first free one. Played out by both it fills the board without a line:
// nine moves and a draw, the longest tictactoe game (as gateway's
// BenchmarkPlay plays).
var drawCells = [9]int{0, 1, 2, 4, 3, 5, 7, 6, 8}

// benchConfig is one run of "playlog bench".
type benchConfig struct {
	target
	games    int // games in play at once
	warmup   time.Duration
	duration time.Duration // the measured window, after the warmup
	reuse    bool          // one connection per player across its games
}

// runBench implements "playlog bench": tictactoe games against a playlogd
// on this machine, measured after a warmup.
func runBench(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog bench", flag.ContinueOnError)
	var parseOut bytes.Buffer // help goes to stdout, errors to stderr
	fs.SetOutput(&parseOut)
	games := fs.Int("games", 10, fmt.Sprintf("games in play at once, two WebSocket players each (at most %d)", maxBenchGames))
	duration := fs.Duration("duration", 20*time.Second, "how long to measure, after the warmup")
	warmup := fs.Duration("warmup", 2*time.Second, "how long to play before measuring")
	tf := addTargetFlags(fs, 10*time.Second, "limit of every request, dial and wait for a server message")
	reuse := fs.Bool("reuse", false, "keep each player's WebSocket across its games (default: a new connection per player per game)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: playlog bench [-url http://127.0.0.1:8080] [-games 10] [-duration 20s] [-warmup 2s] [-reuse] [-pid N,...] [-json]")
		fmt.Fprintln(fs.Output(), "\nPlays tictactoe against a playlogd on this machine: -games games at once, each")
		fmt.Fprintln(fs.Output(), "created over REST and played by two WebSocket players who move as soon as they")
		fmt.Fprintln(fs.Output(), "may; a finished game is followed by a new one. After the warmup it measures")
		fmt.Fprintln(fs.Output(), "moves/s, action_result, opponent event and join latencies, errors by kind, and")
		fmt.Fprintln(fs.Output(), "the CPU time and RSS of each -pid (a process and its children, such as a PostgreSQL postmaster and its backends). Players are bench-u0001, bench-u0002, ...")
		fmt.Fprintln(fs.Output(), "with tokens minted from the server's secret.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog bench: "+format+"\n", a...)
		return code
	}
	tg, err := tf.resolve(fs, env)
	if err != nil {
		return fail(2, "%v", err)
	}
	switch {
	case *games < 1 || *games > maxBenchGames:
		return fail(2, "-games %d: want 1 to %d", *games, maxBenchGames)
	case *duration <= 0 || *warmup < 0 || *warmup+*duration > maxBenchTime:
		return fail(2, "-duration %v, -warmup %v: want a positive duration, a warmup of zero or more, at most %v in all", *duration, *warmup, maxBenchTime)
	}
	cfg := benchConfig{target: tg, games: *games, warmup: *warmup, duration: *duration, reuse: *reuse}
	b, err := newBench(cfg)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer b.api.close()
	ctx := context.Background()
	if err := b.api.preflight(ctx, b.slots[0].tokens[0]); err != nil {
		return fail(1, "%v", err)
	}
	conns := "a new connection per player per game"
	if cfg.reuse {
		conns = "one connection per player"
	}
	fmt.Fprintf(stderr, "playlog bench: %d games at once on %s, %s; warmup %v, measuring %v\n",
		cfg.games, cfg.base, conns, cfg.warmup, cfg.duration)
	rep, err := b.run(ctx)
	if cfg.json {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		rep.write(stdout)
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	if rep.Moves == 0 {
		return fail(1, "no move completed in the measured window")
	}
	return 0
}

// bench is one run: its configuration, its transports, and what it
// records. Its methods are safe for concurrent use.
type bench struct {
	cfg    benchConfig
	wsURL  string
	api    *restAPI
	dialer *websocket.Dialer
	runID  string // prefix of this run's message ids, unique across runs
	slots  []*slot
	rec    *recorder
}

func newBench(cfg benchConfig) (*bench, error) {
	nd := loopbackDialer(cfg.timeout)
	b := &bench{
		cfg:    cfg,
		wsURL:  wsEndpoint(cfg.base),
		api:    newRESTAPI(cfg.base, nd, cfg.timeout, cfg.games),
		dialer: wsDialer(nd, cfg.timeout),
		rec:    newRecorder(),
	}
	id := make([]byte, 4)
	rand.Read(id)
	b.runID = "bench-" + hex.EncodeToString(id)
	ttl := cfg.warmup + cfg.duration + benchDrain + time.Hour
	for i := range cfg.games {
		s := &slot{b: b}
		for seat := range 2 {
			s.users[seat] = fmt.Sprintf("bench-u%04d", 2*i+seat+1)
			tok, err := auth.Mint(cfg.secret, s.users[seat], ttl, cfg.issuer, cfg.audience, time.Now())
			if err != nil {
				return nil, err
			}
			s.tokens[seat] = tok
		}
		b.slots = append(b.slots, s)
	}
	return b, nil
}

// run plays until the end of the window, then resigns unfinished games and
// closes every connection, and returns the report. Every goroutine it
// starts has ended when it returns.
func (b *bench) run(ctx context.Context) (*benchReport, error) {
	start := time.Now()
	b.rec.from = start.Add(b.cfg.warmup)
	b.rec.to = b.rec.from.Add(b.cfg.duration)
	play, stop := context.WithDeadline(ctx, b.rec.to)
	defer stop()
	drain, stopDrain := context.WithDeadline(ctx, b.rec.to.Add(benchDrain))
	defer stopDrain()
	var wg sync.WaitGroup
	for _, s := range b.slots {
		wg.Go(func() { s.run(play, drain) })
	}

	var errs []error
	before := make([]time.Duration, len(b.cfg.pids))
	unread := make([]bool, len(b.cfg.pids)) // a read failed (the process ended): not measured
	sample := func(into []time.Duration) {
		for i, pid := range b.cfg.pids {
			cpu, err := readCPU(pid)
			if err != nil {
				errs = append(errs, fmt.Errorf("pid %d: not measured: %w", pid, err))
				unread[i] = true
			}
			into[i] = cpu
		}
	}
	warm := time.NewTimer(time.Until(b.rec.from))
	defer warm.Stop()
	select {
	case <-warm.C:
	case <-play.Done():
	}
	sample(before)
	<-play.Done()
	after := make([]time.Duration, len(b.cfg.pids))
	sample(after)
	rss := make([]int64, len(b.cfg.pids))
	for i, pid := range b.cfg.pids {
		rss[i], _ = readRSS(pid)
	}
	wg.Wait()
	return b.report(before, after, rss, unread), errors.Join(errs...)
}

// dial opens a WebSocket and reads its connected message.
func (b *bench) dial(ctx context.Context, token string) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	c, err := client.Dial(ctx, b.wsURL, token, client.Options{Dialer: b.dialer})
	if err != nil {
		return nil, err
	}
	m, err := c.Next(ctx)
	if err == nil && m.Type != protocol.TypeConnected {
		err = benchErrorf("protocol", "first message %q, want connected", m.Type)
	}
	if err != nil {
		c.Drop()
		return nil, err
	}
	return c, nil
}

// slot is one of the games in play at once: two players who play one game
// after another until the run ends.
type slot struct {
	b      *bench
	users  [2]string
	tokens [2]string
	conns  [2]*client.Client // kept between games with -reuse
	msgs   [2]int            // message ids used, per player
}

func (s *slot) run(play, drain context.Context) {
	defer func() {
		for _, c := range s.conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for play.Err() == nil {
		if err := s.game(play, drain); err != nil {
			pause(play, errorPause)
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// game creates a game and plays it to its end, both players at once. A
// game left unfinished (an error, the end of the run) is resigned.
func (s *slot) game(play, drain context.Context) error {
	var created struct {
		GameID string `json:"game_id"`
	}
	// Under drain: a game created as the run ends is still learnt of, and
	// resigned.
	body := map[string]any{"rules": tictactoe.Name, "players": s.users[:]}
	if err := s.b.api.call(drain, s.tokens[0], "POST", "/v1/games", body, &created, http.StatusCreated); err != nil {
		if play.Err() == nil {
			s.b.rec.fail(fmt.Errorf("create a game: %w", err))
		}
		return err
	}
	g := &game{id: created.GameID, sent: map[uint64]time.Time{}, seen: map[uint64]time.Time{}}
	ctx, cancel := context.WithCancel(play)
	defer cancel()
	var wg sync.WaitGroup
	var errs [2]error
	for seat := range 2 {
		wg.Go(func() {
			if errs[seat] = s.play(ctx, g, seat); errs[seat] != nil {
				cancel() // the other player would wait for nothing
			}
		})
	}
	wg.Wait()
	if !g.over.Load() {
		s.b.api.call(drain, s.tokens[0], "POST", "/v1/games/"+g.id+"/resign", nil, nil, http.StatusOK)
	}
	return errors.Join(errs[:]...)
}

// play joins g in seat and plays until the game is over. A failure not
// caused by ctx (the run's end, the other player's failure) is recorded.
func (s *slot) play(ctx context.Context, g *game, seat int) (err error) {
	p := &player{s: s, g: g, seat: seat, me: s.users[seat], c: s.conns[seat]}
	defer func() {
		if err != nil && ctx.Err() == nil {
			s.b.rec.fail(err)
		}
		s.release(ctx, p, err)
	}()
	if err := p.join(ctx); err != nil {
		return err
	}
	return p.play(ctx)
}

// release is done with a player's connection: without -reuse it closes it;
// with -reuse it leaves the game and keeps the connection, unless it
// failed.
func (s *slot) release(ctx context.Context, p *player, err error) {
	if p.c == nil {
		return
	}
	if err == nil && s.b.cfg.reuse {
		tctx, cancel := context.WithTimeout(ctx, s.b.cfg.timeout)
		_, err = p.c.Request(tctx, protocol.Request{Type: protocol.TypeLeaveGame, MessageID: s.nextID(p.seat), GameID: p.g.id})
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() == nil {
			s.b.rec.fail(fmt.Errorf("leave_game: %w", err))
		}
	}
	s.conns[p.seat] = nil
	if err == nil || ctx.Err() != nil {
		p.c.Close()
	} else {
		p.c.Drop() // the server may be stuck: do not wait on a close handshake
	}
}

// nextID returns a message id unique to the seat's user across runs.
func (s *slot) nextID(seat int) string {
	s.msgs[seat]++
	return s.b.runID + "." + strconv.Itoa(s.msgs[seat])
}

// game is what the two players of one game share: its id, whether it is
// over, and the times that match a move's sending to the opponent's
// receiving it. Safe for concurrent use.
type game struct {
	id   string
	over atomic.Bool
	mu   sync.Mutex
	sent map[uint64]time.Time // a move's first event id: when its action was sent
	seen map[uint64]time.Time // an event id: when the mover's opponent received it
}

// stored notes that the move whose first event is id was sent at sent.
// If the opponent has already received that event, it returns when.
func (g *game) stored(id uint64, sent time.Time) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if at, ok := g.seen[id]; ok {
		delete(g.seen, id)
		return at, true
	}
	g.sent[id] = sent
	return time.Time{}, false
}

// received notes that an opponent received event id at at. If a move's
// first event is id, it returns when that move was sent.
func (g *game) received(id uint64, at time.Time) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if sent, ok := g.sent[id]; ok {
		delete(g.sent, id)
		return sent, true
	}
	g.seen[id] = at
	return time.Time{}, false
}

// player is one seat of one game: its connection and its fold of the game.
// It moves when its own fold says it is its turn.
type player struct {
	s    *slot
	g    *game
	seat int
	me   string
	c    *client.Client

	st       tictactoe.State
	at       uint64 // the last event id folded
	over     bool   // game_over received
	inflight string // message id of the action awaiting its result
	sentAt   time.Time
	waitFor  uint64 // the last event id of this player's last move: no new move before it is folded
}

// join connects (unless the player kept its connection), joins the game and
// folds the game_state snapshot.
func (p *player) join(ctx context.Context) error {
	start := time.Now()
	if p.c == nil {
		c, err := p.s.b.dial(ctx, p.s.tokens[p.seat])
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		p.c = c
		if p.s.b.cfg.reuse {
			p.s.conns[p.seat] = c
		}
	}
	tctx, cancel := context.WithTimeout(ctx, p.s.b.cfg.timeout)
	_, err := p.c.Request(tctx, protocol.Request{Type: protocol.TypeJoinGame, MessageID: p.s.nextID(p.seat), GameID: p.g.id})
	cancel()
	if err != nil {
		return fmt.Errorf("join_game: %w", err)
	}
	for {
		m, at, err := p.next(ctx)
		if err != nil {
			return fmt.Errorf("waiting for game_state: %w", err)
		}
		if m.Type != protocol.TypeGameState || m.GameID != p.g.id {
			continue // presence and spectator counts, or a left game's last words
		}
		var snap struct {
			State tictactoe.State `json:"state"`
		}
		if err := json.Unmarshal(m.State, &snap); err != nil || m.EventID == nil || snap.State.Players[p.seat] != p.me {
			return benchErrorf("protocol", "game_state of %s is not a tictactoe game with %s in seat %d", p.g.id, p.me, p.seat)
		}
		p.st, p.at = snap.State, *m.EventID
		p.over = m.Outcome != nil && m.Outcome.Ended
		p.s.b.rec.joined(start, at)
		return nil
	}
}

// next waits at most the timeout for the next server message.
func (p *player) next(ctx context.Context) (protocol.Message, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, p.s.b.cfg.timeout)
	defer cancel()
	return p.c.NextTimed(ctx)
}

func (p *player) play(ctx context.Context) error {
	for !p.over || p.inflight != "" {
		if p.myTurn() {
			if err := p.move(); err != nil {
				return fmt.Errorf("send action: %w", err)
			}
		}
		m, at, err := p.next(ctx)
		if err != nil {
			return fmt.Errorf("game %s: waiting for the server: %w", p.g.id, err)
		}
		if err := p.handle(m, at); err != nil {
			return err
		}
	}
	return nil
}

func (p *player) myTurn() bool {
	r := tictactoe.Rules{}
	return !p.over && p.inflight == "" && p.at >= p.waitFor &&
		!r.Outcome(p.st).Ended && r.Turn(p.st)[0] == p.me
}

func (p *player) move() error {
	cell := -1
	for _, c := range drawCells {
		if p.st.Board[c] == tictactoe.Empty {
			cell = c
			break
		}
	}
	action, _ := json.Marshal(tictactoe.Action{Type: "place", Cell: cell})
	id := p.s.nextID(p.seat)
	p.sentAt = time.Now()
	if err := p.c.Send(protocol.Request{Type: protocol.TypeAction, MessageID: id, GameID: p.g.id, Action: action}); err != nil {
		return err
	}
	p.inflight = id
	return nil
}

// handle folds one server message received at at.
func (p *player) handle(m protocol.Message, at time.Time) error {
	rec := p.s.b.rec
	switch m.Type {
	case protocol.TypeEvent:
		if m.GameID != p.g.id {
			return nil
		}
		if m.EventID == nil || *m.EventID != p.at+1 {
			return benchErrorf("protocol", "game %s: event %v after %d", p.g.id, m.EventID, p.at)
		}
		p.at = *m.EventID
		if m.Actor != p.me {
			if sent, ok := p.g.received(p.at, at); ok {
				rec.peerSaw(sent, at)
			}
		}
		if m.EventType == "placed" {
			var placed tictactoe.Placed
			if err := json.Unmarshal(m.Data, &placed); err != nil || placed.Cell < 0 || placed.Cell > 8 {
				return benchErrorf("protocol", "game %s: event %d: placed %s", p.g.id, p.at, m.Data)
			}
			p.st = tictactoe.Rules{}.Evolve(p.st, placed)
		}
	case protocol.TypeActionResult:
		if m.RequestMessageID != p.inflight {
			return nil
		}
		p.inflight = ""
		if m.Error != nil {
			return fmt.Errorf("action: %w", m.Error)
		}
		if len(m.EventIDs) == 0 {
			return benchErrorf("protocol", "game %s: action_result without event ids", p.g.id)
		}
		p.waitFor = m.EventIDs[len(m.EventIDs)-1]
		rec.moved(p.sentAt, at)
		if seen, ok := p.g.stored(m.EventIDs[0], p.sentAt); ok {
			rec.peerSaw(p.sentAt, seen)
		}
	case protocol.TypeGameOver:
		if m.GameID == p.g.id {
			p.over = true
			if p.g.over.CompareAndSwap(false, true) {
				rec.gameOver(at)
			}
		}
	case protocol.TypeError:
		if m.Error == nil {
			return benchErrorf("protocol", "error message without an error")
		}
		return fmt.Errorf("game %s: error answer: %w", p.g.id, m.Error)
	}
	return nil
}

// recorder gathers what happens in the measured window [from, to). Safe
// for concurrent use once from and to are set.
type recorder struct {
	from, to time.Time

	mu                 sync.Mutex
	rng                *mrand.Rand
	moves, games       int
	result, peer, join samples
	errors             map[string]int
	example            map[string]string // the first message of each kind
	warmupErrors       int
}

func newRecorder() *recorder {
	return &recorder{rng: mrand.New(mrand.NewPCG(1, 2)), errors: map[string]int{}, example: map[string]string{}}
}

func (r *recorder) in(start, end time.Time) bool { return !start.Before(r.from) && end.Before(r.to) }

// moved records a successful move: its action sent at sent, its result
// received at got.
func (r *recorder) moved(sent, got time.Time) {
	if !r.in(sent, got) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.moves++
	r.result.add(got.Sub(sent), r.rng)
}

// peerSaw records the opponent receiving, at got, a move sent at sent.
func (r *recorder) peerSaw(sent, got time.Time) {
	if !r.in(sent, got) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.peer.add(got.Sub(sent), r.rng)
}

// joined records a join from its dial (or join_game) at start to its
// game_state at got.
func (r *recorder) joined(start, got time.Time) {
	if !r.in(start, got) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.join.add(got.Sub(start), r.rng)
}

func (r *recorder) gameOver(at time.Time) {
	if !r.in(at, at) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.games++
}

// fail records a failure. Those of the warmup are only counted.
func (r *recorder) fail(err error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case now.Before(r.from):
		r.warmupErrors++
	case now.Before(r.to):
		kind := errorKind(err)
		if r.errors[kind]++; r.errors[kind] == 1 {
			r.example[kind] = err.Error()
		}
	}
}

// benchReport is what a run measured, after its warmup.
type benchReport struct {
	URL            string            `json:"url"`
	Games          int               `json:"games"`
	Reuse          bool              `json:"reuse"`
	Warmup         float64           `json:"warmup_s"`
	Duration       float64           `json:"duration_s"`
	Moves          int               `json:"moves"`
	MovesPerSecond float64           `json:"moves_per_s"`
	GamesCompleted int               `json:"games_completed"`
	ActionResult   latency           `json:"action_result"`  // mover: action sent to its action_result
	OpponentEvent  latency           `json:"opponent_event"` // action sent to the opponent's event
	Join           latency           `json:"join"`           // dial (or join_game when reused) to game_state
	Errors         map[string]int    `json:"errors"`
	Examples       map[string]string `json:"error_examples,omitempty"`
	WarmupErrors   int               `json:"warmup_errors"`
	Processes      []procReport      `json:"processes,omitempty"`
	CPUSeconds     float64           `json:"cpu_s,omitempty"`           // all processes
	CPUPerMove     float64           `json:"cpu_us_per_move,omitempty"` // all processes
	Incomplete     bool              `json:"incomplete,omitempty"`      // a process was not measured: the totals leave it out
}

// procReport is one -pid's use of the machine.
type procReport struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_s"`                // during the window
	CPUPerMove float64 `json:"cpu_us_per_move"`      // during the window
	RSSBytes   int64   `json:"rss_bytes"`            // at its end
	Unmeasured bool    `json:"unmeasured,omitempty"` // its /proc could not be read (it ended): left out of the total
}

func (b *bench) report(before, after []time.Duration, rss []int64, unread []bool) *benchReport {
	r := b.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &benchReport{
		URL: b.cfg.base.String(), Games: b.cfg.games, Reuse: b.cfg.reuse,
		Warmup: b.cfg.warmup.Seconds(), Duration: b.cfg.duration.Seconds(),
		Moves: r.moves, MovesPerSecond: float64(r.moves) / b.cfg.duration.Seconds(), GamesCompleted: r.games,
		ActionResult: r.result.latency(), OpponentEvent: r.peer.latency(), Join: r.join.latency(),
		Errors: maps.Clone(r.errors), Examples: maps.Clone(r.example), WarmupErrors: r.warmupErrors,
	}
	perMove := func(cpu time.Duration) float64 {
		if r.moves == 0 {
			return 0
		}
		return float64(cpu) / float64(time.Microsecond) / float64(r.moves)
	}
	var total time.Duration
	for i, pid := range b.cfg.pids {
		if unread[i] {
			// Its CPU before or after the window is unknown: a difference
			// with a zero would count minus all it ever used.
			rep.Processes = append(rep.Processes, procReport{PID: pid, Unmeasured: true})
			rep.Incomplete = true
			continue
		}
		cpu := after[i] - before[i]
		total += cpu
		rep.Processes = append(rep.Processes, procReport{PID: pid, CPUSeconds: cpu.Seconds(), CPUPerMove: perMove(cpu), RSSBytes: rss[i]})
	}
	if len(b.cfg.pids) > 0 {
		rep.CPUSeconds, rep.CPUPerMove = total.Seconds(), perMove(total)
	}
	return rep
}

// write prints the report for people.
func (r *benchReport) write(w io.Writer) {
	conns := "a new connection per player per game"
	if r.Reuse {
		conns = "one connection per player (-reuse)"
	}
	fmt.Fprintf(w, "%d games at once on %s, %s; measured %gs after a %gs warmup\n", r.Games, r.URL, conns, r.Duration, r.Warmup)
	fmt.Fprintf(w, "%-16s %d (%.1f/s)\n", "moves", r.Moves, r.MovesPerSecond)
	fmt.Fprintf(w, "%-16s %d\n", "games completed", r.GamesCompleted)
	for _, l := range []struct {
		name string
		l    latency
	}{{"action_result", r.ActionResult}, {"opponent event", r.OpponentEvent}, {"join", r.Join}} {
		fmt.Fprintf(w, "%-16s p50 %.3fms  p99 %.3fms  max %.3fms  (n=%d)\n", l.name, l.l.P50, l.l.P99, l.l.Max, l.l.N)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintf(w, "%-16s none\n", "errors")
	}
	for i, kind := range slices.Sorted(maps.Keys(r.Errors)) {
		name := ""
		if i == 0 {
			name = "errors"
		}
		fmt.Fprintf(w, "%-16s %s: %d (first: %s)\n", name, kind, r.Errors[kind], r.Examples[kind])
	}
	if r.WarmupErrors > 0 {
		fmt.Fprintf(w, "%-16s %d\n", "warmup errors", r.WarmupErrors)
	}
	for _, p := range r.Processes {
		if p.Unmeasured {
			fmt.Fprintf(w, "%-16s not measured: it ended, or its /proc could not be read\n", "pid "+strconv.Itoa(p.PID))
			continue
		}
		fmt.Fprintf(w, "%-16s cpu %.2fs (%.0f%% of a core)  %.0fµs/move  rss %.1f MiB\n", "pid "+strconv.Itoa(p.PID),
			p.CPUSeconds, 100*p.CPUSeconds/r.Duration, p.CPUPerMove, float64(p.RSSBytes)/(1<<20))
	}
	if len(r.Processes) > 1 {
		incomplete := ""
		if r.Incomplete {
			incomplete = "  INCOMPLETE: a pid was not measured"
		}
		fmt.Fprintf(w, "%-16s cpu %.2fs (%.0f%% of a core)  %.0fµs/move%s\n", "all pids", r.CPUSeconds, 100*r.CPUSeconds/r.Duration, r.CPUPerMove, incomplete)
	}
}
