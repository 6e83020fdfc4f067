package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A node's own reports, echoed by the bus, are skipped before decoding;
// another node's are kept, whatever its id.
func TestPresenceSkipsOwnReports(t *testing.T) {
	for _, node := range []string{uuid.NewString(), `node "quoted" \ one`} {
		p := newPresence(time.Now, 0, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, node)
		game := uuid.New()
		own, err := json.Marshal(presenceReport{Node: node, Game: game, Players: []string{"alice"}})
		if err != nil {
			t.Fatal(err)
		}
		p.receive(own)
		if len(p.remote[game]) != 0 {
			t.Fatalf("node %q: its own report was recorded: %v", node, p.remote[game])
		}
		if n := testing.AllocsPerRun(100, func() { p.receive(own) }); n != 0 {
			t.Errorf("node %q: its own report decoded (%.0f allocations), want it skipped first", node, n)
		}
		other, err := json.Marshal(presenceReport{Node: node + "x", Game: game, Players: []string{"bob"}})
		if err != nil {
			t.Fatal(err)
		}
		p.receive(other)
		r, ok := p.remote[game][node+"x"]
		if !ok || len(r.players) != 1 || r.players[0] != "bob" {
			t.Fatalf("node %q: another node's report not recorded: %v", node, p.remote[game])
		}
	}
}
