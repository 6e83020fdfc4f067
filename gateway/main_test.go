package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/client"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/protocol"
	"github.com/playlog/playlog/timers"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	jwtSecret  = testnode.JWTSecret
	seedSecret = testnode.SeedSecret
)

// node is one playlogd: command path, directory, gateway, HTTP server.
type node struct {
	url    string // http://127.0.0.1:port
	store  eventstore.Store
	srv    *gateway.Server
	hub    *hub.Hub
	dir    *projections.Directory
	timers *timers.Service
	blobs  archive.Blobs // the archive behind store
}

// startNode starts a node. Unless cfg says otherwise, its rate limit is
// far above what tests send: tests that measure the limit set their own.
func startNode(t testing.TB, store eventstore.Store, bus gateway.Bus, cfg gateway.Config) *node {
	t.Helper()
	if cfg.MessagesPerSecond == 0 {
		cfg.MessagesPerSecond, cfg.Burst = 10000, 10000
	}
	return startNodeWith(t, store, bus, cfg, testnode.Options{})
}

func startNodeWith(t testing.TB, store eventstore.Store, bus gateway.Bus, cfg gateway.Config, opts testnode.Options) *node {
	t.Helper()
	if cfg.MessagesPerSecond == 0 {
		cfg.MessagesPerSecond, cfg.Burst = 10000, 10000
	}
	n := testnode.StartWith(t, store, bus, cfg, opts)
	return &node{url: n.URL, store: store, srv: n.Server, hub: n.Hub, dir: n.Directory, timers: n.Timers, blobs: n.Blobs}
}

func token(t testing.TB, user string) string { return testnode.Token(t, user) }

func (n *node) dial(t testing.TB, user string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+"/v1/ws", token(t, user), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	m, err := c.Next(ctx)
	if err != nil || m.Type != protocol.TypeConnected || m.UserID != user {
		t.Fatalf("first message %+v, %v; want connected for %s", m, err, user)
	}
	return c
}

// rest calls the REST API as user and decodes the JSON answer into out.
func (n *node) rest(t testing.TB, user, method, path string, body any, out any) int {
	t.Helper()
	var raw string
	if body != nil {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	return n.rawREST(t, user, method, path, raw, nil, out)
}

// rawREST is rest with the body as given, and headers.
func (n *node) rawREST(t testing.TB, user, method, path, body string, headers map[string]string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+token(t, user))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: undecodable answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

type gameInfo struct {
	GameID  string            `json:"game_id"`
	Rules   string            `json:"rules"`
	Players []string          `json:"players"`
	Status  string            `json:"status"`
	Head    uint64            `json:"head"`
	Turn    []string          `json:"turn"`
	Legal   []json.RawMessage `json:"legal"`
	Forced  *protocol.Forced  `json:"forced"`
	Error   *protocol.Error   `json:"error"`
}

func (n *node) create(t testing.TB, rules string, players ...string) uuid.UUID {
	t.Helper()
	var g gameInfo
	if st := n.rest(t, players[0], "POST", "/v1/games", map[string]any{"rules": rules, "players": players}, &g); st != http.StatusCreated {
		t.Fatalf("create %s: %d %+v", rules, st, g.Error)
	}
	return uuid.MustParse(g.GameID)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func u64(v uint64) *uint64 { return &v }
