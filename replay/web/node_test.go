package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/playlog/playlog/auth"
	"github.com/playlog/playlog/engine/games"
	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
	"github.com/playlog/playlog/projections"
	"github.com/playlog/playlog/replay"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	jwtSecret  = []byte("test-secret-test-secret-test-secret!")
	seedSecret = []byte("seed-secret-seed-secret-seed-secret!")
)

// node is one playlogd as cmd/playlogd builds it (a small copy of
// gateway/main_test.go's startNode): command path, directory, hub,
// replayer and gateway over a real store, served over HTTP.
type node struct {
	url   string
	store eventstore.Store
	play  *play.Service
}

func startNode(t testing.TB, store eventstore.Store) *node {
	t.Helper()
	svc, err := play.New(play.Config{Store: store, Registry: games.Standard(), SeedSecret: seedSecret})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := replay.New(replay.Config{Store: store, Registry: games.Standard()})
	if err != nil {
		t.Fatal(err)
	}
	dir := projections.NewDirectory(store)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dir.Run(ctx) }()
	verifier, err := auth.NewVerifier(auth.Config{Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{Store: store, Linger: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(gateway.Deps{Play: svc, Directory: dir, Store: store, Hub: h, Replay: rp, Auth: verifier}, gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler()) // the API and the page, at /replay/
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		h.Close()
		cancel()
		<-done
	})
	return &node{url: hs.URL, store: store, play: svc}
}

func token(t testing.TB, user string) string {
	t.Helper()
	tok, err := auth.Mint(jwtSecret, user, time.Hour, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// get calls the REST API as user and decodes the answer into out.
func (n *node) get(t testing.TB, user, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token(t, user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as %s: %s", path, user, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// policy picks a command among the legal ones.
type policy func(rng *rand.Rand, legal []json.RawMessage) json.RawMessage

func anyLegal(rng *rand.Rand, legal []json.RawMessage) json.RawMessage {
	return legal[rng.IntN(len(legal))]
}

// play plays a game of rules through play.Service.Execute, as its players
// would, choosing legal commands by pick, until it ends or done says to
// stop.
func (n *node) playGame(t testing.TB, rules string, players []string, seed uint64, pick policy, done func(play.Snapshot) bool) play.Snapshot {
	t.Helper()
	ctx := context.Background()
	g, err := n.play.Create(ctx, rules, players, nil, players[0])
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := 0; !g.State.Outcome().Ended && (done == nil || !done(g)); i++ {
		if i == 5000 {
			t.Fatalf("%s did not end after %d commands", rules, i)
		}
		turn := g.Rules.Turn(g.State)
		who := turn[rng.IntN(len(turn))]
		res, err := n.play.Execute(ctx, g.ID, who, pick(rng, g.Rules.Legal(g.State, who)), fmt.Sprint("m", i))
		if err != nil {
			t.Fatalf("%s command %d: %v", rules, i, err)
		}
		g = res.Game
	}
	return g
}
