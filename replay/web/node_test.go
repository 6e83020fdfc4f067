package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/internal/testkit/testnode"
	"github.com/playlog/playlog/play"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// node is one playlogd over a real store, served over HTTP: the API and
// the page, at /replay/.
type node struct {
	url   string
	store eventstore.Store
	play  *play.Service
}

func startNode(t testing.TB, store eventstore.Store) *node {
	t.Helper()
	n := testnode.Start(t, store, nil, gateway.Config{})
	return &node{url: n.URL, store: store, play: n.Play}
}

func token(t testing.TB, user string) string { return testnode.Token(t, user) }

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
