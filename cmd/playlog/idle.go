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
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/engine/games/tictactoe"
	"github.com/playlog/playlog/internal/par"
	"github.com/playlog/playlog/protocol"
)

// Bounds of one idle run.
const (
	maxIdleConns       = 100_000
	maxIdleConcurrency = 1000
	maxIdleHold        = time.Hour
	maxIdleWithin      = 30 * time.Minute
	// idleFileSlack is what the client opens besides its WebSockets: its
	// REST connections (up to -concurrency more), stdio, the runtime's.
	idleFileSlack = 32
	// idleCloseWait is how long a connection waits, after its close frame,
	// for the server's.
	idleCloseWait = 2 * time.Second
)

// idleConfig is one run of "playlog idle".
type idleConfig struct {
	target
	conns       int // WebSocket connections, each a player of one game
	games       int // games created for them: games <= conns <= 2*games
	concurrency int // dials (and REST requests) in flight
	hold        time.Duration
	within      time.Duration // bound of the setup: games created and connections joined
}

// runIdle implements "playlog idle": many joined WebSocket connections
// that stay idle, and what they cost a playlogd on this machine.
func runIdle(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playlog idle", flag.ContinueOnError)
	var parseOut bytes.Buffer // help goes to stdout, errors to stderr
	fs.SetOutput(&parseOut)
	conns := fs.Int("conns", 20000, fmt.Sprintf("WebSocket connections, each joined to its game as one of its players (at most %d)", maxIdleConns))
	games := fs.Int("games", 0, "games created for them, two players each: from -conns/2 to -conns (default: half of -conns, rounded up)")
	concurrency := fs.Int("concurrency", 64, fmt.Sprintf("dials, and game creations, in flight (at most %d)", maxIdleConcurrency))
	hold := fs.Duration("hold", 10*time.Second, "how long to stay connected once all are joined (the server closes a connection idle for its IdleTimeout, default 10m)")
	within := fs.Duration("within", 5*time.Minute, fmt.Sprintf("limit of the setup (games created, connections joined); what is not done by then fails (at most %v)", maxIdleWithin))
	tf := addTargetFlags(fs, 30*time.Second, "limit of every REST request, and of each connection's dial and join")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: playlog idle [-url http://127.0.0.1:8080] [-conns 20000] [-games N] [-concurrency 64] [-hold 10s] [-pid N,...] [-json]")
		fmt.Fprintln(fs.Output(), "\nMeasures what idle connections cost a playlogd on this machine. It creates the")
		fmt.Fprintln(fs.Output(), "games over REST (tictactoe, two players each), then opens -conns WebSockets, each")
		fmt.Fprintln(fs.Output(), "a player that joins its game with join_game and then only reads (and answers")
		fmt.Fprintln(fs.Output(), "pings); once all are joined it holds them for -hold and closes them, and")
		fmt.Fprintln(fs.Output(), "resigns the games. It reports joins and failures by kind, the time until all")
		fmt.Fprintln(fs.Output(), "joined, join latencies and, for each -pid, RSS at the start, after the games,")
		fmt.Fprintln(fs.Output(), "when all joined and after the hold, KB per connection and per game, and CPU")
		fmt.Fprintln(fs.Output(), "time by phase. This process holds every connection: it raises its open files")
		fmt.Fprintln(fs.Output(), "limit to the hard limit (ulimit -Hn), which must allow -conns and some more;")
		fmt.Fprintln(fs.Output(), "so must the server's. Players are idle-RUN-u00001, ... with tokens minted from")
		fmt.Fprintln(fs.Output(), "the server's secret.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, &parseOut, stdout, stderr); done {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "playlog idle: "+format+"\n", a...)
		return code
	}
	tg, err := tf.resolve(fs, env)
	if err != nil {
		return fail(2, "%v", err)
	}
	if *games == 0 {
		*games = (*conns + 1) / 2
	}
	switch {
	case *conns < 1 || *conns > maxIdleConns:
		return fail(2, "-conns %d: want 1 to %d", *conns, maxIdleConns)
	case *games < 1 || *conns < *games || *conns > 2**games:
		return fail(2, "-games %d: want %d to %d (half of -conns, rounded up, to -conns)", *games, (*conns+1)/2, *conns)
	case *concurrency < 1 || *concurrency > maxIdleConcurrency:
		return fail(2, "-concurrency %d: want 1 to %d", *concurrency, maxIdleConcurrency)
	case *hold < 0 || *hold > maxIdleHold:
		return fail(2, "-hold %v: want 0 to %v", *hold, maxIdleHold)
	case *within <= 0 || *within > maxIdleWithin:
		return fail(2, "-within %v: want more than 0, at most %v", *within, maxIdleWithin)
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return fail(2, "raise the open files limit: %v", err)
	}
	if err := checkFileLimit(limit, *conns, *concurrency); err != nil {
		return fail(2, "%v", err)
	}
	for _, pid := range tg.pids {
		// A server cannot hold more connections than it may open files.
		if n, err := readFileLimit(pid); err == nil && n > 0 && n < uint64(*conns+idleFileSlack) {
			fmt.Fprintf(stderr, "playlog idle: warning: pid %d may open %d files (ulimit -n): fewer than -conns %d and its own files\n", pid, n, *conns)
		}
	}
	cfg := idleConfig{target: tg, conns: *conns, games: *games, concurrency: *concurrency, hold: *hold, within: *within}
	r, err := newIdleRun(cfg)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer r.api.close()
	rep, err := r.run(context.Background(), func(format string, a ...any) {
		fmt.Fprintf(stderr, "playlog idle: "+format+"\n", a...)
	})
	if rep == nil {
		return fail(1, "%v", err)
	}
	if cfg.json {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		rep.write(stdout)
	}
	switch {
	case err != nil:
		return fail(1, "%v", err)
	case rep.Failed > 0 || rep.Dropped.total() > 0:
		return fail(1, "%d of %d connections failed, %d dropped before the end", rep.Failed, rep.Conns, rep.Dropped.total())
	}
	return 0
}

// raiseFileLimit raises this process's soft limit of open files to its
// hard limit, and returns it.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}

// checkFileLimit says whether a process that may open limit files can hold
// conns connections with concurrency REST requests beside them.
func checkFileLimit(limit uint64, conns, concurrency int) error {
	need := uint64(conns + concurrency + idleFileSlack)
	if limit >= need {
		return nil
	}
	can := int64(limit) - int64(concurrency+idleFileSlack)
	return fmt.Errorf("this process may open %d files (its hard limit, ulimit -Hn): room for %d connections, not the %d of -conns; raise the limit (ulimit -n %d, as root) or lower -conns",
		limit, max(can, 0), conns, need)
}

// idleRun is one run: its configuration, its transports, the games and
// connections it opened and what it records. Its methods are safe for
// concurrent use.
type idleRun struct {
	cfg    idleConfig
	wsURL  string
	api    *restAPI
	dialer *websocket.Dialer
	runID  string   // in the users' names and the message ids: unique across runs
	games  []string // game ids; "" for one not created
	conns  []*websocket.Conn

	closing atomic.Bool    // the run is closing its connections: their end is no drop
	readers sync.WaitGroup // one per joined connection

	mu                    sync.Mutex
	rng                   *mrand.Rand
	join                  samples
	joined                int
	lastJoin              time.Time
	gameErrs, connErrs    failures
	dropped, resignErrors failures
}

func newIdleRun(cfg idleConfig) (*idleRun, error) {
	nd := loopbackDialer(cfg.timeout)
	d := wsDialer(nd, cfg.timeout)
	// The server's messages to an idle player are small (connected,
	// joined, game_state, the opponent's presence): small buffers keep
	// the client lean.
	d.ReadBufferSize, d.WriteBufferSize = 1024, 1024
	id := make([]byte, 4)
	rand.Read(id)
	r := &idleRun{
		cfg: cfg, wsURL: wsEndpoint(cfg.base), api: newRESTAPI(cfg.base, nd, cfg.timeout, cfg.concurrency), dialer: d,
		runID: hex.EncodeToString(id), games: make([]string, cfg.games), conns: make([]*websocket.Conn, cfg.conns),
		rng: mrand.New(mrand.NewPCG(1, 2)),
	}
	if _, err := r.token(0, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// user is the player in seat of game g.
func (r *idleRun) user(g, seat int) string {
	return fmt.Sprintf("idle-%s-u%05d", r.runID, 2*g+seat+1)
}

// token mints the token of the player in seat of game g.
func (r *idleRun) token(g, seat int) (string, error) {
	ttl := r.cfg.within + r.cfg.hold + time.Hour
	return auth.Mint(r.cfg.secret, r.user(g, seat), ttl, r.cfg.issuer, r.cfg.audience, time.Now())
}

// phase is the -pids' CPU time and RSS as one phase of the run ends.
type phase struct {
	cpu    []time.Duration
	rss    []int64
	unread []bool // the pid's /proc could not be read (it ended)
}

// sample reads the -pids' CPU time and RSS now.
func (r *idleRun) sample() (phase, error) {
	p := phase{cpu: make([]time.Duration, len(r.cfg.pids)), rss: make([]int64, len(r.cfg.pids)), unread: make([]bool, len(r.cfg.pids))}
	var errs []error
	for i, pid := range r.cfg.pids {
		cpu, err := readCPU(pid)
		if err == nil {
			p.rss[i], err = readRSS(pid)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("pid %d: not measured: %w", pid, err))
			p.unread[i] = true
		}
		p.cpu[i] = cpu
	}
	return p, errors.Join(errs...)
}

// run creates the games, connects and joins every player, holds the
// connections, closes them and resigns the games, sampling the -pids
// between those phases; it says what it is doing with progress. It
// returns no report if no playlogd answers. Every goroutine it starts has
// ended, and every connection it opened is closed, when it returns.
func (r *idleRun) run(ctx context.Context, progress func(format string, a ...any)) (*idleReport, error) {
	var errs []error
	sample := func() phase {
		p, err := r.sample()
		if err != nil {
			errs = append(errs, err)
		}
		return p
	}
	start := sample()
	tok, _ := r.token(0, 0)
	if err := r.api.preflight(ctx, tok); err != nil {
		return nil, err
	}
	setup, cancel := context.WithTimeout(ctx, r.cfg.within)
	defer cancel()

	progress("creating %d games on %s, %d at once", r.cfg.games, r.cfg.base, r.cfg.concurrency)
	t0 := time.Now()
	started, _ := par.Each(setup, r.cfg.games, r.cfg.concurrency, func(g int) error { r.create(setup, g); return nil })
	r.notStarted(&r.gameErrs, r.cfg.games-started)
	created := time.Since(t0)
	r.api.close() // the REST connections' files, here and in the server, go to the WebSockets
	afterGames := sample()

	progress("connecting %d players, %d dials at once", r.cfg.conns, r.cfg.concurrency)
	t1 := time.Now()
	started, _ = par.Each(setup, r.cfg.conns, r.cfg.concurrency, func(i int) error { r.connect(setup, i); return nil })
	r.notStarted(&r.connErrs, r.cfg.conns-started)
	connected := time.Since(t1)
	afterJoin := sample()

	progress("%d joined; holding them for %v", r.joinedCount(), r.cfg.hold)
	pause(ctx, r.cfg.hold)
	afterHold := sample()

	progress("closing the connections")
	t3 := time.Now()
	r.close()
	closed := time.Since(t3)
	afterClose := sample()

	progress("resigning the games")
	cleanup, cancel := context.WithTimeout(ctx, r.cfg.within)
	defer cancel()
	t4 := time.Now()
	par.Each(cleanup, r.cfg.games, r.cfg.concurrency, func(g int) error { r.resign(cleanup, g); return nil })
	resigned := time.Since(t4)
	end := sample()

	took := idleTimes{create: created, connectFrom: t1, connect: connected, close: closed, resign: resigned}
	rep := r.report(took, []phase{start, afterGames, afterJoin, afterHold, afterClose, end})
	return rep, errors.Join(errs...)
}

// create creates game g over REST.
func (r *idleRun) create(ctx context.Context, g int) {
	tok, err := r.token(g, 0)
	if err != nil {
		r.failed(&r.gameErrs, err)
		return
	}
	var created struct {
		GameID string `json:"game_id"`
	}
	body := map[string]any{"rules": tictactoe.Name, "players": []string{r.user(g, 0), r.user(g, 1)}}
	if err := r.api.call(ctx, tok, "POST", "/v1/games", body, &created, http.StatusCreated); err != nil {
		r.failed(&r.gameErrs, fmt.Errorf("create game %d: %w", g, err))
		return
	}
	r.games[g] = created.GameID
}

// resign ends game g, if it was created.
func (r *idleRun) resign(ctx context.Context, g int) {
	if r.games[g] == "" {
		return
	}
	tok, err := r.token(g, 0)
	if err == nil {
		err = r.api.call(ctx, tok, "POST", "/v1/games/"+r.games[g]+"/resign", nil, nil, http.StatusOK)
	}
	if err != nil {
		r.failed(&r.resignErrors, fmt.Errorf("resign %s: %w", r.games[g], err))
	}
}

// connect opens connection i, the player in seat i/games of game
// i%games, joins it to its game and leaves it to a reader.
func (r *idleRun) connect(ctx context.Context, i int) {
	g, seat := i%r.cfg.games, i/r.cfg.games
	if r.games[g] == "" {
		r.failed(&r.connErrs, benchErrorf("no game", "connection %d: its game was not created", i))
		return
	}
	start := time.Now()
	ws, err := r.dialJoin(ctx, i, g, seat)
	if err != nil {
		r.failed(&r.connErrs, fmt.Errorf("connection %d: %w", i, err))
		return
	}
	r.joinedAt(start, time.Now())
	r.conns[i] = ws
	r.readers.Go(func() { r.idle(ws) })
}

// dialJoin dials, reads the connected message, sends join_game and reads
// until the game's game_state, all within the timeout.
func (r *idleRun) dialJoin(ctx context.Context, i, g, seat int) (*websocket.Conn, error) {
	tok, err := r.token(g, seat)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	ws, resp, err := r.dialer.DialContext(ctx, r.wsURL, http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		if resp != nil {
			var body struct {
				Error *protocol.Error `json:"error"`
			}
			if json.NewDecoder(resp.Body).Decode(&body) == nil && body.Error != nil && body.Error.Code != "" {
				return nil, fmt.Errorf("dial: %w", body.Error)
			}
			return nil, benchErrorf("http "+strconv.Itoa(resp.StatusCode), "dial: %s", resp.Status)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	if err := r.joinGame(ctx, ws, i, r.games[g]); err != nil {
		ws.Close()
		return nil, err
	}
	return ws, nil
}

func (r *idleRun) joinGame(ctx context.Context, ws *websocket.Conn, i int, game string) error {
	deadline, _ := ctx.Deadline()
	ws.NetConn().SetReadDeadline(deadline)
	next := func() (protocol.Message, error) {
		var m protocol.Message
		_, data, err := ws.ReadMessage()
		if err == nil && json.Unmarshal(data, &m) != nil {
			err = benchErrorf("protocol", "undecodable server message %.100q", data)
		}
		return m, err
	}
	m, err := next()
	if err == nil && m.Type != protocol.TypeConnected {
		err = benchErrorf("protocol", "first message %q, want connected", m.Type)
	}
	if err != nil {
		return fmt.Errorf("waiting for connected: %w", err)
	}
	id := "idle-" + r.runID + "-" + strconv.Itoa(i)
	if err := ws.WriteJSON(protocol.Request{Type: protocol.TypeJoinGame, MessageID: id, GameID: game}); err != nil {
		return fmt.Errorf("send join_game: %w", err)
	}
	for {
		m, err := next()
		switch {
		case err != nil:
			return fmt.Errorf("waiting for game_state: %w", err)
		case m.Type == protocol.TypeError && m.RequestMessageID == id && m.Error != nil:
			return fmt.Errorf("join_game: %w", m.Error)
		case m.Type == protocol.TypeGameState && m.GameID == game:
			return ws.NetConn().SetReadDeadline(time.Time{})
		}
		// joined, the opponent's presence: read on.
	}
}

// idle reads and discards what the server sends (answering its pings)
// until the connection ends, then closes it. A connection ended before
// the run closes it is a drop.
func (r *idleRun) idle(ws *websocket.Conn) {
	defer ws.Close()
	for {
		_, rd, err := ws.NextReader()
		if err != nil {
			if !r.closing.Load() {
				r.failed(&r.dropped, err)
			}
			return
		}
		io.Copy(io.Discard, rd)
	}
}

// close sends every joined connection a close frame and waits for its
// reader, which ends at the server's answer or idleCloseWait after.
func (r *idleRun) close() {
	r.closing.Store(true)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	for _, ws := range r.conns {
		if ws == nil {
			continue
		}
		deadline := time.Now().Add(idleCloseWait)
		ws.WriteControl(websocket.CloseMessage, msg, deadline)
		ws.NetConn().SetReadDeadline(deadline) // the net.Conn's: safe beside the reader
	}
	r.readers.Wait()
}

func (r *idleRun) joinedAt(start, got time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.joined++
	r.lastJoin = got
	r.join.add(got.Sub(start), r.rng)
}

func (r *idleRun) joinedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joined
}

func (r *idleRun) failed(f *failures, err error) {
	kind := idleErrorKind(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	f.add(kind, err.Error(), 1)
}

// notStarted records n failures of what -within left no time for.
func (r *idleRun) notStarted(f *failures, n int) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f.add("not started", fmt.Sprintf("%d not started within -within %v", n, r.cfg.within), n)
}

// idleErrorKind is errorKind, with the client's own resource exhaustion
// named: with thousands of connections it is the likely failure.
func idleErrorKind(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	}
	return errorKind(err)
}

// failures counts failures by kind and keeps the first message of each.
type failures struct {
	Count map[string]int    `json:"count,omitempty"`
	First map[string]string `json:"first,omitempty"`
}

func (f *failures) add(kind, msg string, n int) {
	if f.Count == nil {
		f.Count, f.First = map[string]int{}, map[string]string{}
	}
	if _, ok := f.First[kind]; !ok {
		f.First[kind] = msg
	}
	f.Count[kind] += n
}

func (f failures) total() int {
	n := 0
	for _, c := range f.Count {
		n += c
	}
	return n
}

func (f failures) clone() failures {
	return failures{Count: maps.Clone(f.Count), First: maps.Clone(f.First)}
}

// idleReport is what a run measured.
type idleReport struct {
	URL          string   `json:"url"`
	Conns        int      `json:"conns"`
	Games        int      `json:"games"`
	Concurrency  int      `json:"concurrency"`
	Hold         float64  `json:"hold_s"`
	GamesCreated int      `json:"games_created"`
	GameErrors   failures `json:"game_errors"`
	CreateTime   float64  `json:"create_s"` // all the games created (or failed)
	Joined       int      `json:"joined"`
	Failed       int      `json:"failed"`
	ConnErrors   failures `json:"conn_errors"`
	// ConnectTime runs from the first dial until every connection has
	// joined or failed; AllJoinedTime until the last join.
	ConnectTime   float64       `json:"connect_s"`
	AllJoinedTime float64       `json:"all_joined_s"`
	Join          latency       `json:"join"` // dial to game_state
	Dropped       failures      `json:"dropped"`
	CloseTime     float64       `json:"close_s"`
	ResignTime    float64       `json:"resign_s"`
	ResignErrors  failures      `json:"resign_errors"`
	Processes     []idleProcess `json:"processes,omitempty"`
}

// idleProcess is one -pid's memory and CPU through the run.
type idleProcess struct {
	PID       int   `json:"pid"`
	RSSStart  int64 `json:"rss_start_bytes"`  // before anything
	RSSGames  int64 `json:"rss_games_bytes"`  // the games created, no connection yet
	RSSJoined int64 `json:"rss_joined_bytes"` // every connection joined
	RSSHeld   int64 `json:"rss_held_bytes"`   // after the hold
	// KBPerGame is (RSSGames-RSSStart)/games created; KBPerConn
	// (RSSHeld-RSSGames)/joined, and KBPerConnJoined the same with
	// RSSJoined.
	KBPerGame       float64 `json:"kb_per_game"`
	KBPerConn       float64 `json:"kb_per_conn"`
	KBPerConnJoined float64 `json:"kb_per_conn_joined"`
	CPU             idleCPU `json:"cpu_s"`
	Unmeasured      bool    `json:"unmeasured,omitempty"` // a read of its /proc failed (it ended): no figures
}

// idleCPU is CPU time by phase, in seconds.
type idleCPU struct {
	Create  float64 `json:"create"`
	Connect float64 `json:"connect"`
	Hold    float64 `json:"hold"`
	Close   float64 `json:"close"`
	Resign  float64 `json:"resign"`
	Total   float64 `json:"total"`
}

// idleTimes is how long the phases of a run took.
type idleTimes struct {
	create      time.Duration
	connectFrom time.Time // the first dial
	connect     time.Duration
	close       time.Duration
	resign      time.Duration
}

// report builds the report from the phases' durations and the samples
// taken at their ends (the first at the start).
func (r *idleRun) report(took idleTimes, at []phase) *idleReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &idleReport{
		URL: r.cfg.base.String(), Conns: r.cfg.conns, Games: r.cfg.games, Concurrency: r.cfg.concurrency, Hold: r.cfg.hold.Seconds(),
		GamesCreated: r.cfg.games - r.gameErrs.total(), GameErrors: r.gameErrs.clone(), CreateTime: took.create.Seconds(),
		Joined: r.joined, Failed: r.connErrs.total(), ConnErrors: r.connErrs.clone(), ConnectTime: took.connect.Seconds(),
		Join: r.join.latency(), Dropped: r.dropped.clone(),
		CloseTime: took.close.Seconds(), ResignTime: took.resign.Seconds(), ResignErrors: r.resignErrors.clone(),
	}
	if r.joined > 0 {
		rep.AllJoinedTime = r.lastJoin.Sub(took.connectFrom).Seconds()
	}
	kb := func(from, to int64, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(to-from) / 1024 / float64(n)
	}
	cpu := func(i, from, to int) float64 { return (at[to].cpu[i] - at[from].cpu[i]).Seconds() }
	for i, pid := range r.cfg.pids {
		if slices.ContainsFunc(at, func(p phase) bool { return p.unread[i] }) {
			// A difference with a zero read would be all it ever used.
			rep.Processes = append(rep.Processes, idleProcess{PID: pid, Unmeasured: true})
			continue
		}
		start, games, joined, held := at[0].rss[i], at[1].rss[i], at[2].rss[i], at[3].rss[i]
		rep.Processes = append(rep.Processes, idleProcess{
			PID: pid, RSSStart: start, RSSGames: games, RSSJoined: joined, RSSHeld: held,
			KBPerGame: kb(start, games, rep.GamesCreated), KBPerConn: kb(games, held, r.joined), KBPerConnJoined: kb(games, joined, r.joined),
			CPU: idleCPU{Create: cpu(i, 0, 1), Connect: cpu(i, 1, 2), Hold: cpu(i, 2, 3), Close: cpu(i, 3, 4), Resign: cpu(i, 4, 5), Total: cpu(i, 0, 5)},
		})
	}
	return rep
}

// write prints the report for people.
func (r *idleReport) write(w io.Writer) {
	fmt.Fprintf(w, "%d connections to %s, players of %d games, %d dials at once; held %gs\n", r.Conns, r.URL, r.Games, r.Concurrency, r.Hold)
	fmt.Fprintf(w, "%-16s %d created in %.1fs (%.0f/s), %d failed\n", "games", r.GamesCreated, r.CreateTime, rate(r.GamesCreated, r.CreateTime), r.Games-r.GamesCreated)
	writeFailures(w, "game errors", r.GameErrors)
	fmt.Fprintf(w, "%-16s %d joined, %d failed\n", "connections", r.Joined, r.Failed)
	if r.Failed == 0 {
		fmt.Fprintf(w, "%-16s all joined in %.1fs (%.0f/s)\n", "", r.AllJoinedTime, rate(r.Joined, r.AllJoinedTime))
	} else {
		fmt.Fprintf(w, "%-16s the last joined after %.1fs; all done after %.1fs\n", "", r.AllJoinedTime, r.ConnectTime)
	}
	writeFailures(w, "failed", r.ConnErrors)
	fmt.Fprintf(w, "%-16s p50 %.3fms  p99 %.3fms  max %.3fms  (n=%d, dial to game_state)\n", "join", r.Join.P50, r.Join.P99, r.Join.Max, r.Join.N)
	if r.Dropped.total() == 0 {
		fmt.Fprintf(w, "%-16s none\n", "dropped")
	}
	writeFailures(w, "dropped", r.Dropped)
	fmt.Fprintf(w, "%-16s closed in %.1fs; games resigned in %.1fs\n", "end", r.CloseTime, r.ResignTime)
	writeFailures(w, "resign errors", r.ResignErrors)
	const mib = 1 << 20
	for _, p := range r.Processes {
		name := "pid " + strconv.Itoa(p.PID)
		if p.Unmeasured {
			fmt.Fprintf(w, "%-16s not measured: it ended, or its /proc could not be read\n", name)
			continue
		}
		fmt.Fprintf(w, "%-16s rss %.1f MiB at the start, %.1f MiB with the games (%.1f KB/game)\n", name,
			float64(p.RSSStart)/mib, float64(p.RSSGames)/mib, p.KBPerGame)
		fmt.Fprintf(w, "%-16s rss %.1f MiB all joined, %.1f MiB after the hold: %.1f KB/connection (%.1f when joined)\n", "",
			float64(p.RSSJoined)/mib, float64(p.RSSHeld)/mib, p.KBPerConn, p.KBPerConnJoined)
		c := p.CPU
		fmt.Fprintf(w, "%-16s cpu %.2fs: create %.2fs, connect %.2fs, hold %.2fs, close %.2fs, resign %.2fs\n", "",
			c.Total, c.Create, c.Connect, c.Hold, c.Close, c.Resign)
	}
}

// writeFailures prints failures by kind, under name, if there are any.
func writeFailures(w io.Writer, name string, f failures) {
	for i, kind := range slices.Sorted(maps.Keys(f.Count)) {
		if i > 0 {
			name = ""
		}
		fmt.Fprintf(w, "%-16s %s: %d (first: %s)\n", name, kind, f.Count[kind], f.First[kind])
	}
}

func rate(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}
