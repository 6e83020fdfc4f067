package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/replay"
	"github.com/playlog/playlog/seal"
)

// TestRunServesAndStops starts playlogd as `make run` does (embedded
// JetStream, a data directory, port 0), creates a game over REST with a
// token for the generated secret, connects over WebSocket, and stops it as
// Ctrl-C would.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	url, done := serve(t, ctx, dir)
	secret, err := os.ReadFile(filepath.Join(dir, "dev-jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := auth.Mint([]byte(strings.TrimSpace(string(secret))), "alice", time.Hour, "", "", time.Now())
	req, _ := http.NewRequest("POST", url+"/v1/games", strings.NewReader(`{"rules":"tictactoe","players":["alice","bob"]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", resp, err)
	}
	var g struct {
		GameID string `json:"game_id"`
	}
	json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	c, err := client.Dial(wctx, "ws"+strings.TrimPrefix(url, "http")+"/v1/ws", tok, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := c.Next(wctx); err != nil || m.Type != protocol.TypeConnected {
		t.Fatalf("connected: %+v %v", m, err)
	}
	if _, err := c.Request(wctx, protocol.Request{Type: protocol.TypeJoinGame, GameID: g.GameID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(wctx, protocol.Request{Type: protocol.TypeAction, GameID: g.GameID, Action: []byte(`{"type":"place","cell":4}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(wctx, protocol.Request{Type: protocol.TypeAction, GameID: g.GameID, Action: []byte(`{"type":"place","cell":5}`)}); err == nil {
		t.Fatal("alice moved twice in a row")
	}
	// /metrics counts what happened, and what stands: one connection, one
	// join, one live store subscription for it, two commands.
	m := scrape(t, url)
	for name, want := range map[string]float64{
		"playlog_connections_open":                        1,
		"playlog_joins_total":                             1,
		"playlog_join_failures_total":                     0,
		"playlog_store_live_subscriptions":                1,
		"playlog_hub_feeds":                               1,
		`playlog_commands_total{outcome="ok"}`:            1,
		`playlog_commands_total{outcome="not_your_turn"}`: 1,
		"playlog_append_seconds_count":                    1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present: %v), want %v", name, got, ok, want)
		}
	}
	if m["go_goroutines"] == 0 || m["process_resident_memory_bytes"] == 0 {
		t.Error("no Go runtime or process metrics")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("playlogd did not stop within 30s")
	}
	// The WebSocket was closed with 1001 going away, by the drain.
	for {
		_, err := c.Next(wctx)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("the WebSocket ended with %v, want close 1001", err)
		}
		break
	}
	// The development seal key was generated beside the other secrets, and
	// stopping sealed the running game's head (its newest events had not
	// waited the interval yet): the public key verifies it.
	pub, err := seal.LoadPublicKey(filepath.Join(dir, "dev-seal-key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	id := uuid.MustParse(g.GameID)
	events, err := replay.ReadGame(context.Background(), store, id)
	if err != nil {
		t.Fatal(err)
	}
	seals, err := store.Seals(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r := seal.Check(events, seals, seal.NewVerifier(pub), false); len(r.Findings) > 0 || r.Covered != uint64(len(events)) {
		t.Fatalf("after a clean stop, the game's %d events are sealed through %d (%+v)", len(events), r.Covered, r.Findings)
	}
}

func TestBadFlagsAreErrors(t *testing.T) {
	for _, args := range [][]string{{"-no-such-flag"}, {"extra"}, {"-durability", "sometimes", "-data", t.TempDir(), "-http", "127.0.0.1:0"},
		{"-seal-every", "0"}, {"-seal-interval", "0s"}, {"-archive-after", "-1h"}, {"-archive-every", "0s"},
		{"-log-format", "xml"}, {"-log-level", "loud"}, {"-drain-timeout", "0s"},
		{"-nats-replicas", "6", "-nats-url", "nats://127.0.0.1:1"}, {"-nats-replicas", "3"},
		{"-nats-replicas", "3", "-nats-url", "nats://127.0.0.1:1", "-database-url", "postgres://127.0.0.1:1/x"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Fatalf("playlogd %q started", args)
		}
	}
}

// A value in the environment that does not parse is refused like the
// flag's; a flag given on the command line wins over its variable.
func TestBadEnvironmentIsAnError(t *testing.T) {
	for env, v := range map[string]string{
		"PLAYLOG_ARCHIVE_AFTER": "30d", "PLAYLOG_SNAPSHOT_EVERY": "1e3", "PLAYLOG_PPROF": "yes",
		"PLAYLOG_NATS_REPLICAS": "three", "PLAYLOG_LOG_LEVEL": "verbose", "PLAYLOG_DRAIN_TIMEOUT": "20",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, v)
			_, err := parse(nil, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "$"+env) {
				t.Fatalf("%s=%s: %v", env, v, err)
			}
		})
	}
	t.Setenv("PLAYLOG_ARCHIVE_AFTER", "30d")
	t.Setenv("PLAYLOG_SNAPSHOT_EVERY", "7")
	c, err := parse([]string{"-archive-after", "1h"}, io.Discard)
	if err != nil || c.archiveAfter != time.Hour || c.snapshotEvery != 7 {
		t.Fatalf("a flag beside a bad variable: %+v, %v", c, err)
	}
}

// scrape reads /metrics into name{labels} -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// -log-format json writes one JSON object a line, from -log-level up.
func TestLogFormatAndLevel(t *testing.T) {
	c, err := parse([]string{"-log-format", "json", "-log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	logger := newLogger(c, &buf)
	logger.Debug("joined", "game", "g1", "conn", 7)
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil || line["level"] != "DEBUG" || line["msg"] != "joined" || line["game"] != "g1" {
		t.Fatalf("json log line %q (%v)", buf.String(), err)
	}
	c, _ = parse([]string{"-log-level", "warn"}, io.Discard)
	buf.Reset()
	logger = newLogger(c, &buf)
	logger.Info("not shown")
	logger.Warn("shown", "game", "g2")
	if got := buf.String(); strings.Contains(got, "not shown") || !strings.Contains(got, "level=WARN msg=shown game=g2") {
		t.Fatalf("text log at warn: %q", got)
	}
}

// The log is one store: -nats-url and -database-url together are
// refused (PostgreSQL was picked quietly), and the one given on the
// command line wins over the other's variable.
func TestOneStoreOnTheCommandLine(t *testing.T) {
	if _, err := parse([]string{"-nats-url", "nats://127.0.0.1:4222", "-database-url", "postgres://x"}, io.Discard); err == nil || !strings.Contains(err.Error(), "give one") {
		t.Fatalf("both on the command line: %v", err)
	}
	t.Setenv("PLAYLOG_DATABASE_URL", "postgres://from-env")
	c, err := parse([]string{"-nats-url", "nats://127.0.0.1:4222"}, io.Discard)
	if err != nil || c.databaseURL != "" || c.natsURL != "nats://127.0.0.1:4222" {
		t.Fatalf("-nats-url beside $PLAYLOG_DATABASE_URL: nats %q, database %q, %v", c.natsURL, c.databaseURL, err)
	}
	t.Setenv("PLAYLOG_NATS_URL", "nats://from-env:4222")
	if c, err := parse(nil, io.Discard); err != nil || c.databaseURL != "postgres://from-env" {
		t.Fatalf("both in the environment: the database's, as documented: %+v, %v", c, err)
	}
}

// An idle keep-alive connection is closed after idleTimeout: net/http
// waited for its next request for ever (ReadHeaderTimeout starts at the
// request's first byte), so a client could hold connections by saying
// nothing after one request.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	old := idleTimeout
	idleTimeout = 300 * time.Millisecond
	defer func() { idleTimeout = old }()
	ctx, cancel := context.WithCancel(context.Background())
	url, done := serve(t, ctx, t.TempDir())
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	if _, err := br.ReadByte(); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("an idle keep-alive connection is still open 10 s after its last request")
	}
}

// serve runs playlogd on dir and a free port until ctx ends, and returns
// the URL it serves and its end (run's error).
func serve(t *testing.T, ctx context.Context, dir string) (string, <-chan error) {
	t.Helper()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-data", dir, "-http", "127.0.0.1:0"}, outW, io.Discard)
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	var url string
	for url == "" && lines.Scan() {
		if m := regexp.MustCompile(`serving (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, outR)
	if url == "" {
		t.Fatal("playlogd never said where it serves")
	}
	return url, done
}
