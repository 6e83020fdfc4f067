package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// The page's hash chain code (static/chain.js) run under node, which has
// the same WebCrypto as browsers, against the documented test vector and
// against chains sealed by package eventstore: the JavaScript and the Go
// formula must agree on every byte. TestBrowserChainVector runs the same
// module in Chromium.

// vectorGame and vectorEvents are the test vector of docs/eventlog.md.
var vectorGame = uuid.MustParse("0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10")

var vectorHashes = []string{
	"a5389c32ef42f4c0b78c6bb7db750ee6913595abd823984527165844d2d02e0e",
	"ba86cc85c96076f315ad64c9bc13a5c6db76108f812e99bfefebb14d8cdcf6d2",
}

func vectorEvents() []eventstore.Event {
	at := time.Date(2026, 11, 22, 10, 30, 0, 123456000, time.UTC)
	return eventstore.Stamp(vectorGame, 0, eventstore.Hash{}, at, []eventstore.Pending{
		{Type: "game_created", SchemaVersion: 1, Actor: "alice", MessageID: "m-1", Data: []byte(`{"rules":"tictactoe", "players":["alice","bob"]}`)},
		{Type: "mark_placed", SchemaVersion: 2, Actor: "alice", MessageID: "m-1", Data: []byte(`{"cell":4,"note":"<&> \"quoted\" é"}`)},
	})
}

// wireEvent is an event as GET .../replay/events sends it to a viewer who
// sees it in full.
type wireEvent struct {
	Seq        uint64  `json:"seq"`
	Visibility string  `json:"visibility"`
	Type       string  `json:"type,omitempty"`
	Version    int     `json:"version,omitempty"`
	Actor      string  `json:"actor,omitempty"`
	PrevHash   string  `json:"prev_hash,omitempty"`
	Hash       string  `json:"hash,omitempty"`
	Stored     *stored `json:"stored,omitempty"`
}

type stored struct {
	Type          string `json:"type"`
	SchemaVersion int    `json:"schema_version"`
	MessageID     string `json:"message_id"`
	Data          string `json:"data"`
	RecordedAtUS  int64  `json:"recorded_at_us"`
}

func toWire(evs []eventstore.Event) []wireEvent {
	out := make([]wireEvent, len(evs))
	for i, e := range evs {
		out[i] = wireEvent{Seq: e.Seq, Visibility: "full", Type: e.Type, Version: e.SchemaVersion, Actor: e.Actor,
			PrevHash: e.PrevHash.String(), Hash: e.Hash.String(),
			Stored: &stored{Type: e.Type, SchemaVersion: e.SchemaVersion, MessageID: e.MessageID, Data: string(e.Data), RecordedAtUS: e.RecordedAt.UnixMicro()}}
	}
	return out
}

// hide makes event i what a viewer who may not see it gets: no hash, no
// stored form, and the next event without prev_hash.
func hide(evs []wireEvent, i int) {
	evs[i] = wireEvent{Seq: evs[i].Seq, Visibility: "redacted", Type: evs[i].Type, Version: evs[i].Version, Actor: evs[i].Actor}
	if i+1 < len(evs) {
		evs[i+1].PrevHash = ""
	}
}

// chainResult is checkChain's answer, as the node script prints it.
type chainResult struct {
	Status  string            `json:"status"`
	Checked int               `json:"checked"`
	Broken  *uint64           `json:"broken"`
	Results map[string]string `json:"results"`
}

// nodeScript runs chain.js's functions on the cases it reads from stdin.
const nodeScript = `
import { webcrypto } from "node:crypto";
import { eventHash, checkChain, checkSeed, hexToBytes, ZERO_HASH } from "./chain.mjs";
globalThis.crypto ??= webcrypto; // node 18 (Debian 12's) has WebCrypto, not yet as a global
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { game, vector, chains, seeds } = JSON.parse(input);
const hashes = [];
let prev = ZERO_HASH;
for (const e of vector) {
  const h = await eventHash(game, prev, { seq: e.seq, version: e.version, type: e.type, actor: e.actor,
    messageID: e.stored.message_id, data: e.stored.data, recordedAtUs: e.stored.recorded_at_us });
  hashes.push(h);
  prev = hexToBytes(h);
}
const results = [];
for (const c of chains) {
  const r = await checkChain(game, c);
  results.push({ status: r.status, checked: r.checked, broken: r.broken, results: Object.fromEntries(r.results) });
}
const seedResults = [];
for (const s of seeds) seedResults.push(await checkSeed(s.seed, s.commitment));
console.log(JSON.stringify({ hashes, results, seeds: seedResults }));
`

func TestChainJSMatchesTheDocumentedFormula(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install the Debian package nodejs (apt-get install nodejs) to test the page's hash chain code")
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("static", "chain.js"))
	if err != nil {
		t.Fatal(err)
	}
	// .mjs: node loads it as an ES module, as browsers do.
	if err := os.WriteFile(filepath.Join(dir, "chain.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.mjs"), []byte(nodeScript), 0o644); err != nil {
		t.Fatal(err)
	}

	// A longer chain, sealed by Go, in two appends.
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC)
	long := eventstore.Stamp(vectorGame, 0, eventstore.Hash{}, at, []eventstore.Pending{
		{Type: "game_created", SchemaVersion: 1, Actor: "system", Data: []byte(`{"game":"x"}`)},
		{Type: "dealt", SchemaVersion: 1, Actor: "system", Data: []byte(`{"hands":[["8H"]]}`)},
	})
	long = append(long, eventstore.Stamp(vectorGame, 2, long[1].Hash, at.Add(time.Second), []eventstore.Pending{
		{Type: "action", SchemaVersion: 1, Actor: "alice", MessageID: "alice/m1", Data: []byte(`{"actor":"alice","action":{"type":"play","card":"8H"}}`)},
		{Type: "played", SchemaVersion: 1, Actor: "alice", MessageID: "alice/m1", Data: []byte(`{"player":"alice","card":"8H"}`)},
		{Type: "drew", SchemaVersion: 1, Actor: "alice", MessageID: "alice/m1", Data: []byte(`{"player":"alice","card":"KS"}`)},
		{Type: "passed", SchemaVersion: 1, Actor: "alice", MessageID: "alice/m1", Data: []byte(`{"player":"alice","blocked":false}`)},
	})...)

	honest := toWire(long)
	tamperedData := toWire(long)
	tamperedData[3].Stored.Data = `{"player":"alice","card":"8H" }` // one space: the same JSON, other bytes
	tamperedTime := toWire(long)
	tamperedTime[2].Stored.RecordedAtUS++
	hidden := toWire(long)
	hide(hidden, 1) // the deal, hidden from this viewer
	hide(hidden, 4) // another player's draw
	// seq 3 rehashed to be consistent alone from another prev_hash: its own
	// hash checks, but it does not follow seq 2.
	relinked := toWire(long)
	other := long[2]
	other.PrevHash[0] ^= 1
	relinked[2].PrevHash = other.PrevHash.String()
	relinked[2].Hash = eventstore.ChainHash(other.PrevHash, &other).String()
	relinked[3].PrevHash = relinked[2].Hash
	relinked[3].Hash = eventstore.ChainHash(other.PrevHash, &long[3]).String() // garbage, but after the first break
	// An event stored at version 1 that this build reads upcast, as version
	// 2 of another type: shown so, hashed as stored. And the stored schema
	// version edited under an honest hash, which the server would then
	// upcast: refused.
	upcast := toWire(long)
	upcast[3].Type, upcast[3].Version = "card_played", 2
	editedVersion := toWire(long)
	editedVersion[3].Stored.SchemaVersion = 2
	// Every event hidden: nothing to check.
	allHidden := toWire(long)
	for i := range allHidden {
		hide(allHidden, i)
	}

	const seed = "8329b568f7b57ce1bb547c4f2f04d38063921bb290db169028ebfa354e7f1235"
	commitment := sha256Hex(t, seed)
	input, _ := json.Marshal(map[string]any{
		"game":   vectorGame.String(),
		"vector": toWire(vectorEvents()),
		"chains": [][]wireEvent{honest, tamperedData, tamperedTime, hidden, relinked, allHidden, upcast, editedVersion},
		"seeds":  []map[string]string{{"seed": seed, "commitment": commitment}, {"seed": seed, "commitment": sha256Hex(t, "00")}},
	})
	cmd := exec.Command(node, "test.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytesReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderrOf(err))
	}
	var got struct {
		Hashes  []string      `json:"hashes"`
		Results []chainResult `json:"results"`
		Seeds   []bool        `json:"seeds"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}

	for i, want := range vectorHashes {
		if got.Hashes[i] != want {
			t.Errorf("test vector event %d: chain.js gives %s, docs/eventlog.md says %s", i+1, got.Hashes[i], want)
		}
	}
	for i, e := range vectorEvents() {
		if e.Hash.String() != vectorHashes[i] {
			t.Fatalf("eventstore.Seal disagrees with docs/eventlog.md on event %d", i+1)
		}
	}

	seq := func(n uint64) *uint64 { return &n }
	for i, c := range []struct {
		name    string
		status  string
		checked int
		broken  *uint64
		marks   map[string]string
	}{
		{"honest chain", "verified", 6, nil, map[string]string{"1": "ok", "6": "ok"}},
		{"data edited by one space", "not verified", 6, seq(4), map[string]string{"3": "ok", "4": "bad", "5": "ok"}},
		{"recorded time moved by 1µs", "not verified", 6, seq(3), map[string]string{"3": "bad"}},
		// 2 and 5 are hidden; 3 and 6 follow hidden events, so they come
		// without prev_hash: only anchors. 1 and 4 are checked.
		{"hidden events", "verified", 2, nil, map[string]string{"1": "ok", "2": "unchecked", "3": "unchecked", "4": "ok", "5": "unchecked", "6": "unchecked"}},
		{"event relinked to another prev_hash", "not verified", 6, seq(3), map[string]string{"3": "bad"}},
		{"everything hidden", "not checkable", 0, nil, map[string]string{"1": "unchecked"}},
		{"an event shown upcast", "verified", 6, nil, map[string]string{"4": "ok"}},
		{"stored schema version edited", "not verified", 6, seq(4), map[string]string{"4": "bad"}},
	} {
		r := got.Results[i]
		if r.Status != c.status || r.Checked != c.checked || (r.Broken == nil) != (c.broken == nil) || (r.Broken != nil && *r.Broken != *c.broken) {
			t.Errorf("%s: got %s, %d checked, broken at %v; want %s, %d, %v", c.name, r.Status, r.Checked, ptrString(r.Broken), c.status, c.checked, ptrString(c.broken))
		}
		for s, want := range c.marks {
			if r.Results[s] != want {
				t.Errorf("%s: seq %s marked %q, want %q", c.name, s, r.Results[s], want)
			}
		}
	}
	if !got.Seeds[0] || got.Seeds[1] {
		t.Errorf("checkSeed: right commitment %v, wrong one %v; want true, false", got.Seeds[0], got.Seeds[1])
	}
}

func sha256Hex(t *testing.T, hexSeed string) string {
	t.Helper()
	b, err := hex.DecodeString(hexSeed)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func ptrString(p *uint64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
