package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/playlog/playlog/internal/testkit/browser"
	"github.com/playlog/playlog/internal/testkit/testenv"
	"github.com/playlog/playlog/play"
)

// The browser tests run the viewer in a real headless Chromium against a
// real node (play.Service, replay.Replayer, gateway.Server over httptest).
// They use one store each: embedded JetStream, the cheaper to start,
// except the tampering test, which edits a stored event in PostgreSQL's
// events table (the simplest log to edit on disk).

const wait = 20 * time.Second // for one page action

// replayAnswer is GET /v1/games/{id}/replay.
type replayAnswer struct {
	GameID string   `json:"game_id"`
	Rules  string   `json:"rules"`
	View   string   `json:"view"`
	Head   uint64   `json:"head"`
	Ended  bool     `json:"ended"`
	At     uint64   `json:"at"`
	Turn   []string `json:"turn"`
	State  struct {
		Seed       string          `json:"seed"`
		Commitment string          `json:"commitment"`
		State      json.RawMessage `json:"state"`
	} `json:"state"`
}

// eightsState is crazyeights' own state (docs/games/crazyeights.md).
type eightsState struct {
	Players []string   `json:"players"`
	Hands   [][]string `json:"hands"`
	Deck    []string   `json:"deck"`
	Discard []string   `json:"discard"`
	Suit    string     `json:"suit"`
}

type eventsAnswer struct {
	Head   uint64  `json:"head"`
	View   string  `json:"view"`
	Events []entry `json:"events"`
}

type entry struct {
	Seq        uint64          `json:"seq"`
	Visibility string          `json:"visibility"`
	Type       string          `json:"type"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
}

func (n *node) replayAt(t *testing.T, user string, id uuid.UUID, at uint64) (replayAnswer, eightsState) {
	t.Helper()
	var a replayAnswer
	n.get(t, user, fmt.Sprintf("/v1/games/%s/replay?at=%d", id, at), &a)
	var s eightsState
	if a.Rules == "crazyeights" {
		if err := json.Unmarshal(a.State.State, &s); err != nil {
			t.Fatal(err)
		}
	}
	return a, s
}

// pageView is what the page shows, read from its stable hooks.
type pageView struct {
	State, Step, Head, Chain, ChainDetail, Seed, Error, ErrorCode string
	View                                                          string
	Top, Suit                                                     string
	Deck                                                          int
	Seats                                                         []struct {
		Player string
		Count  int
		Hand   []string
	}
	Events []struct {
		Seq          uint64
		Type, Actor  string
		Chain, Class string
	}
	Current []uint64
	Login   bool
}

const readPage = `(() => {
  const q = (s) => document.querySelector(s), qa = (s) => [...document.querySelectorAll(s)];
  const text = (s) => (q(s) ? q(s).textContent : "");
  return {
    State: document.body.dataset.state, Step: text("#step"), Head: text("#head"),
    Chain: text("#chain-status"), ChainDetail: text("#chain-detail"), Seed: text("#seed-status"),
    Error: q("#error").hidden ? "" : text("#error"), ErrorCode: q("#error").dataset.code || "",
    View: text("#view"),
    Top: q("#board .pile .card") ? q("#board .pile .card").dataset.card : "",
    Suit: q("#board .suit") ? q("#board .suit").dataset.suit : "",
    Deck: q("#board .deck") ? Number(q("#board .deck").dataset.count) : -1,
    Seats: qa("#board .seat").map((s) => ({ Player: s.dataset.player, Count: Number(s.dataset.count),
      Hand: [...s.querySelectorAll(".hand .card")].map((c) => c.dataset.card) })),
    Events: qa("#events li.event").map((li) => ({ Seq: Number(li.dataset.seq), Type: li.querySelector(".type").textContent,
      Actor: li.querySelector(".actor").textContent, Chain: [...li.classList].find((c) => c.startsWith("chain-")) || "" })),
    Current: qa("#events li.current").map((li) => Number(li.dataset.seq)),
    Login: !q("#login").hidden,
  };
})()`

func read(t *testing.T, tab *browser.Tab) pageView {
	t.Helper()
	return browser.Run(t, tab, wait, chromedp.Evaluate[pageView](readPage))
}

// open loads the viewer for game id as user and waits until it shows the
// caller's head and has finished checking the chain.
func open(t *testing.T, tab *browser.Tab, n *node, id uuid.UUID, user string) pageView {
	t.Helper()
	// By way of a blank page: from the same page, a new fragment alone
	// would not load it again.
	tab.Do(t, wait, chromedp.Navigate("about:blank"), chromedp.Navigate(n.url+"/replay/"+id.String()+"#token="+token(t, user)))
	return settle(t, tab)
}

// settle waits for the page to show a step (or an error) and to have
// checked the chain.
func settle(t *testing.T, tab *browser.Tab) pageView {
	t.Helper()
	browser.Run(t, tab, wait, chromedp.Poll[chromedp.Void](`(document.body.dataset.state === "ready" &&
		!["checking", "not checked yet"].includes(document.getElementById("chain-status").textContent) &&
		!["checking", "not checked yet"].includes(document.getElementById("seed-status").textContent)) ||
		document.body.dataset.state === "error" || document.body.dataset.state === "token"`))
	return read(t, tab)
}

// waitStep waits until the page shows step n.
func waitStep(t *testing.T, tab *browser.Tab, n uint64) pageView {
	t.Helper()
	browser.Run(t, tab, wait, chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`document.body.dataset.state === "ready" && document.getElementById("step").textContent === "%d"`, n)))
	return read(t, tab)
}

// typeStep jumps to step n the way a user does: types it in the step field
// and presses Enter.
func typeStep(t *testing.T, tab *browser.Tab, n uint64) pageView {
	t.Helper()
	tab.Do(t, wait,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("at").select()`),
		chromedp.SendKeys(chromedp.ID("at"), strconv.FormatUint(n, 10)+kb.Enter))
	return waitStep(t, tab, n)
}

func click(t *testing.T, tab *browser.Tab, id string) {
	t.Helper()
	tab.Do(t, wait, chromedp.Click(chromedp.ID(id)))
}

// checkEights compares the crazyeights board the page shows with the state
// the REST API gives the same viewer at the same step.
func checkEights(t *testing.T, n *node, user string, id uuid.UUID, p pageView) {
	t.Helper()
	at, err := strconv.ParseUint(p.Step, 10, 64)
	if err != nil {
		t.Fatalf("#step is %q", p.Step)
	}
	_, s := n.replayAt(t, user, id, at)
	top := ""
	if len(s.Discard) > 0 {
		top = s.Discard[len(s.Discard)-1]
	}
	if p.Top != top || p.Suit != s.Suit || p.Deck != len(s.Deck) {
		t.Errorf("step %d: page shows top %q, suit %q, deck %d; the API says %q, %q, %d", at, p.Top, p.Suit, p.Deck, top, s.Suit, len(s.Deck))
	}
	if len(p.Seats) != len(s.Players) {
		t.Fatalf("step %d: %d seats shown, %d players", at, len(p.Seats), len(s.Players))
	}
	for i, seat := range p.Seats {
		hand := s.Hands[i]
		var want []string
		if len(hand) > 0 && !slices.Contains(hand, "??") {
			want = hand
		}
		if seat.Player != s.Players[i] || seat.Count != len(hand) || !slices.Equal(seat.Hand, want) {
			t.Errorf("step %d seat %d: page shows %s with %d cards %v; the API says %s with %v", at, i, seat.Player, seat.Count, seat.Hand, s.Players[i], hand)
		}
	}
	if !slices.Equal(p.Current, []uint64{at}) {
		t.Errorf("step %d: highlighted events %v", at, p.Current)
	}
}

// screenshot keeps the page as a PNG in PLAYLOG_ARTIFACTS (default
// $TMPDIR/replay-screenshots).
func screenshot(t *testing.T, tab *browser.Tab, name string) {
	t.Helper()
	dir := os.Getenv("PLAYLOG_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "replay-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := browser.Run(t, tab, wait, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func noProblems(t *testing.T, tab *browser.Tab) {
	t.Helper()
	for _, p := range tab.Problems() {
		t.Errorf("page problem: %s", p)
	}
}

// A finished game of crazy eights, seen by one of its players (the
// auditor's view): every step the page shows is the state the API gives at
// that step, whichever control reached it; the events list is the log;
// the chain and the seed check out.
func TestBrowserStepsThroughAFinishedCrazyEightsGame(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t)) // jetstream
	g := n.playGame(t, "crazyeights", []string{"alice", "bob", "carol"}, 1, anyLegal, nil)
	head := g.Head()
	tab := browser.Start(t)

	p := open(t, tab, n, g.ID, "bob")
	if p.Step != fmt.Sprint(head) || p.Head != fmt.Sprint(head) || p.View != "auditor" {
		t.Fatalf("opened at step %s of %s as %q; want %d of %d as auditor", p.Step, p.Head, p.View, head, head)
	}
	if p.Chain != "verified" || p.Seed != "verified" || p.Error != "" {
		t.Errorf("chain %q (%s), seed %q, error %q; want both verified", p.Chain, p.ChainDetail, p.Seed, p.Error)
	}
	var evs eventsAnswer
	n.get(t, "bob", fmt.Sprintf("/v1/games/%s/replay/events", g.ID), &evs)
	if len(p.Events) != len(evs.Events) {
		t.Fatalf("page lists %d events, the API %d", len(p.Events), len(evs.Events))
	}
	for i, e := range evs.Events {
		if pe := p.Events[i]; pe.Seq != e.Seq || pe.Type != e.Type || pe.Actor != e.Actor || pe.Chain != "chain-ok" {
			t.Errorf("event %d: page shows %+v, the API %+v", i+1, pe, e)
		}
	}
	checkEights(t, n, "bob", g.ID, p)
	screenshot(t, tab, "crazyeights-finished-head")

	mid := head / 2
	checkEights(t, n, "bob", g.ID, typeStep(t, tab, 2)) // the deal
	checkEights(t, n, "bob", g.ID, typeStep(t, tab, mid))
	screenshot(t, tab, "crazyeights-finished-mid")
	click(t, tab, "next")
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, mid+1))
	click(t, tab, "prev")
	click(t, tab, "prev")
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, mid-1))
	tab.Do(t, wait, chromedp.Focus(chromedp.ID("slider")), chromedp.SendKeys(chromedp.ID("slider"), kb.ArrowRight))
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, mid))
	click(t, tab, "first")
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, 1))
	tab.Do(t, wait, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#events li[data-seq="%d"]`, head-3))))
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, head-3))

	// Playback at 10 steps a second runs to the end and stops there.
	tab.Do(t, wait, chromedp.SetValue(chromedp.ID("speed"), "10"))
	click(t, tab, "play")
	checkEights(t, n, "bob", g.ID, waitStep(t, tab, head))
	browser.Run(t, tab, wait, chromedp.Poll[chromedp.Void](`document.getElementById("play").textContent === "Play"`))
	noProblems(t, tab)
}

// A stored event edited in place (one space added to its data: the same
// JSON, the same board, other bytes) breaks the chain, and the page says so
// and names the event.
func TestBrowserShowsAnEditedLogAsNotVerified(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[1].Open(t)) // postgres
	g := n.playGame(t, "crazyeights", []string{"alice", "bob"}, 2, anyLegal, nil)
	tab := browser.Start(t)
	if p := open(t, tab, n, g.ID, "alice"); p.Chain != "verified" {
		t.Fatalf("before the edit: chain %q (%s)", p.Chain, p.ChainDetail)
	}
	const seq = 4 // the first move's event, after the deal and its action
	editEvent(t, n, g.ID, seq)
	tab.Do(t, wait, chromedp.Reload())
	p := settle(t, tab)
	if p.Chain != "not verified" || !strings.Contains(p.ChainDetail, fmt.Sprintf("seq %d", seq)) {
		t.Errorf("after the edit: chain %q (%s); want not verified at seq %d", p.Chain, p.ChainDetail, seq)
	}
	for _, e := range p.Events {
		want := "chain-ok"
		if e.Seq == seq {
			want = "chain-bad"
		}
		if e.Chain != want {
			t.Errorf("event %d marked %q, want %q", e.Seq, e.Chain, want)
		}
	}
	screenshot(t, tab, "crazyeights-edited-log")
	noProblems(t, tab)
}

// A spectator of a game in play sees no hand at all, and no card that is
// in a hand appears anywhere in the page; a player sees their own hand and
// only theirs.
func TestBrowserSpectatorOfAnActiveGameSeesNoHand(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t)) // jetstream
	players := []string{"alice", "bob", "carol"}
	g := n.playGame(t, "crazyeights", players, 3, anyLegal, func(g play.Snapshot) bool { return g.Head() >= 30 })
	if g.State.Outcome().Ended {
		t.Fatal("the game ended early; pick another seed")
	}
	full, _ := json.Marshal(g.State)
	var all struct {
		State eightsState `json:"state"`
	}
	if err := json.Unmarshal(full, &all); err != nil {
		t.Fatal(err)
	}
	// With no reshuffle yet, no card in a hand was ever public: every one of
	// them was dealt or drawn face down.
	if strings.Contains(string(full), "reshuffled") {
		t.Fatal("the game reshuffled; pick another seed")
	}
	tab := browser.Start(t)

	p := open(t, tab, n, g.ID, "zoe")
	if p.View != "spectator" || p.Step != fmt.Sprint(g.Head()) || p.Error != "" {
		t.Fatalf("spectator: view %q at step %s, error %q", p.View, p.Step, p.Error)
	}
	checkEights(t, n, "zoe", g.ID, p)
	hands := 0
	for _, s := range p.Seats {
		hands += len(s.Hand)
	}
	if hands != 0 {
		t.Errorf("spectator sees %d cards in hands: %+v", hands, p.Seats)
	}
	for _, at := range []uint64{2, g.Head() / 2, g.Head()} {
		typeStep(t, tab, at)
		html := browser.Run(t, tab, wait, chromedp.Evaluate[string](`document.documentElement.outerHTML + "\n" + document.body.innerText`))
		if strings.Contains(html, `class="hand"`) {
			t.Errorf("step %d: the spectator's page has a hand", at)
		}
		for seat, hand := range all.State.Hands {
			for _, c := range hand {
				if regexp.MustCompile(`(^|[^0-9A-Za-z])` + c + `([^0-9A-Za-z]|$)`).MatchString(html) {
					t.Errorf("step %d: %s's hidden card %s is in the spectator's page", at, players[seat], c)
				}
			}
		}
	}
	screenshot(t, tab, "crazyeights-spectator")
	if p := read(t, tab); p.Seed != "not checkable" || p.Chain != "verified" {
		t.Errorf("spectator: chain %q, seed %q; want verified runs, seed not checkable", p.Chain, p.Seed)
	}

	// alice, a player, sees her own hand and nobody else's. A browser of
	// her own: a second navigation of one tab races chromedp's evaluation
	// context ("Cannot find context with specified id").
	tab = browser.Start(t)
	p = open(t, tab, n, g.ID, "alice")
	if p.View != "player" {
		t.Fatalf("alice's view is %q", p.View)
	}
	checkEights(t, n, "alice", g.ID, p)
	for i, s := range p.Seats {
		if (s.Player == "alice") != (len(s.Hand) > 0) || (s.Player == "alice" && !slices.Equal(s.Hand, all.State.Hands[i])) {
			t.Errorf("alice's page shows %s's hand as %v", s.Player, s.Hand)
		}
	}
	screenshot(t, tab, "crazyeights-player")
	noProblems(t, tab)
}

// How long the viewer takes to show the last step of a 500-event game (of
// liar's dice: crazy eights games end long before):
// from navigation to the last step drawn and its event highlighted (the
// chain's check runs after, and is reported beside it). No bound is
// asserted: the figure goes in docs/performance.md.
func TestBrowserLoadTimeOf500EventGame(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t)) // jetstream
	// Liar's dice for six, raising by the least bid and seldom challenging:
	// long rounds, 29 challenges to the end.
	raise := func(rng *rand.Rand, legal []json.RawMessage) json.RawMessage {
		if string(legal[0]) == `{"type":"challenge"}` {
			if len(legal) == 1 || rng.IntN(12) == 0 {
				return legal[0]
			}
			return legal[1]
		}
		return legal[0]
	}
	players := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	g := n.playGame(t, "liarsdice", players, 4, raise, func(g play.Snapshot) bool { return g.Head() >= 497 })
	if !g.State.Outcome().Ended { // end it, so the page shows the auditor's whole log
		// Whoever is to act is still in (alice may be out by now).
		res, err := n.play.Execute(context.Background(), g.ID, g.Rules.Turn(g.State)[0], json.RawMessage(`{"type":"resign"}`), "resign")
		if err != nil {
			t.Fatal(err)
		}
		g = res.Game
	}
	head := g.Head()
	if head < 500 {
		t.Fatalf("the game has %d events, want at least 500", head)
	}
	tab := browser.Start(t)
	tab.Do(t, wait, chromedp.Navigate(n.url+"/replay/static/style.css")) // same origin, nothing cached of the page

	// The page's own requests, as Resource Timing saw them: path, start
	// (ms after the navigation's start) and duration.
	requests := func() string {
		return browser.Run(t, tab, wait, chromedp.Evaluate[string](`performance.getEntriesByType("resource")
			.map((e) => e.name.replace(location.origin, "").replace(/\?.*/, "") + " " + Math.round(e.startTime) + "+" + Math.round(e.duration) + "ms").join(", ")`))
	}
	// load opens the page and returns how long it took to show the last
	// step and to have checked the chain: measured here, from the start of
	// the navigation, and in the page (performance.now(), whose zero is the
	// navigation's start), which leaves out the test's own round trips.
	type times struct{ shown, checked, pageShown, pageChecked time.Duration }
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	load := func() (r times) {
		tab.Do(t, wait, chromedp.Navigate("about:blank"))
		start := time.Now()
		tab.Do(t, wait, chromedp.Navigate(n.url+"/replay/"+g.ID.String()+"#token="+token(t, "alice")))
		at := browser.Run(t, tab, wait, chromedp.Poll[float64](fmt.Sprintf(`document.getElementById("step").textContent === "%d" &&
			document.querySelector('#events li.current[data-seq="%d"]') !== null && performance.now()`, head, head)))
		r.shown, r.pageShown = time.Since(start), ms(at)
		at = browser.Run(t, tab, wait, chromedp.Poll[float64](`document.getElementById("chain-status").textContent === "verified" && performance.now()`))
		r.checked, r.pageChecked = time.Since(start), ms(at)
		return r
	}
	first := load() // the replayer reads and folds the game for the first time
	cold := requests()
	if seats := browser.Run(t, tab, wait, chromedp.Evaluate[int](`document.querySelectorAll("#board .liarsdice .seat").length`)); seats != len(players) {
		t.Errorf("the liarsdice board shows %d seats, want %d", seats, len(players))
	}
	var runs []times
	for range 5 {
		runs = append(runs, load())
	}
	median := func(f func(times) time.Duration) time.Duration {
		d := make([]time.Duration, len(runs))
		for i, r := range runs {
			d[i] = f(r)
		}
		slices.Sort(d)
		return d[len(d)/2].Round(time.Millisecond)
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("viewer load, %d-event game, first: last step shown at %v (in the page %v), chain checked at %v (%v)",
		head, r(first.shown), r(first.pageShown), r(first.checked), r(first.pageChecked))
	t.Logf("viewer load, %d-event game, median of %d more: last step shown at %v (in the page %v), chain checked at %v (%v)",
		head, len(runs), median(func(x times) time.Duration { return x.shown }), median(func(x times) time.Duration { return x.pageShown }),
		median(func(x times) time.Duration { return x.checked }), median(func(x times) time.Duration { return x.pageChecked }))
	t.Logf("requests of the first load: %s; of the last: %s", cold, requests())
	t.Logf("BenchmarkViewerLoad/events=%d \t%d\t%d ns/op\t%d page-ns/op\t%d chain-ns/op", head, len(runs),
		median(func(x times) time.Duration { return x.shown }).Nanoseconds(), median(func(x times) time.Duration { return x.pageShown }).Nanoseconds(),
		median(func(x times) time.Duration { return x.checked }).Nanoseconds())
	screenshot(t, tab, "liarsdice-500-events")

	// The liarsdice board: the standing bid before a challenge, the dice
	// the challenge revealed after it.
	var evs eventsAnswer
	n.get(t, "alice", fmt.Sprintf("/v1/games/%s/replay/events", g.ID), &evs)
	c := slices.IndexFunc(evs.Events, func(e entry) bool { return e.Type == "challenged" })
	if c < 0 {
		t.Fatal("no challenge in the game")
	}
	challenged := evs.Events[c]
	typeStep(t, tab, challenged.Seq-1)
	var before replayAnswer
	n.get(t, "alice", fmt.Sprintf("/v1/games/%s/replay?at=%d", g.ID, challenged.Seq-1), &before)
	var dice struct{ Bid struct{ Quantity, Face int } }
	json.Unmarshal(before.State.State, &dice)
	bid := browser.Run(t, tab, wait, chromedp.Evaluate[[]int](`[Number(document.querySelector("#board .bid").dataset.quantity), Number(document.querySelector("#board .bid").dataset.face)]`))
	if dice.Bid.Quantity == 0 || !slices.Equal(bid, []int{dice.Bid.Quantity, dice.Bid.Face}) {
		t.Errorf("step %d: the page shows the bid %v, the API %+v", challenged.Seq-1, bid, dice.Bid)
	}
	typeStep(t, tab, challenged.Seq)
	var reveal struct {
		Revealed []struct {
			Player string `json:"player"`
			Dice   []int  `json:"dice"`
		} `json:"revealed"`
	}
	json.Unmarshal(challenged.Data, &reveal)
	shown := browser.Run(t, tab, wait, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#board .reveal .revealed li")]
		.map((li) => li.dataset.player + ":" + [...li.querySelectorAll(".die")].map((d) => d.dataset.face).join(","))`))
	var want []string
	for _, r := range reveal.Revealed {
		want = append(want, r.Player+":"+strings.Trim(strings.Join(strings.Fields(fmt.Sprint(r.Dice)), ","), "[]"))
	}
	if !slices.Equal(shown, want) {
		t.Errorf("step %d: the page reveals %v, the challenge %v", challenged.Seq, shown, want)
	}
	screenshot(t, tab, "liarsdice-challenge")
	noProblems(t, tab)
}

// API errors are shown with their code and message; a refused token brings
// the login field back, and a good one typed there opens the game.
func TestBrowserShowsAPIErrorsAndTakesATokenFromTheLoginField(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t)) // jetstream
	g := n.playGame(t, "tictactoe", []string{"alice", "bob"}, 5, anyLegal, nil)
	tab := browser.Start(t)

	p := open(t, tab, n, uuid.New(), "alice")
	if p.ErrorCode != "game_not_found" || !strings.Contains(p.Error, "no game with that id") || !strings.Contains(p.Error, "404") {
		t.Errorf("unknown game: error %q (%s)", p.Error, p.ErrorCode)
	}
	screenshot(t, tab, "error-game-not-found")

	tab.Do(t, wait, chromedp.Navigate(n.url+"/replay/"+g.ID.String()+"#token=not-a-jwt"))
	p = settle(t, tab)
	if p.ErrorCode != "authentication_failed" || !p.Login {
		t.Errorf("bad token: error %q (%s), login shown %v", p.Error, p.ErrorCode, p.Login)
	}
	tab.Do(t, wait, chromedp.SendKeys(chromedp.ID("token"), token(t, "bob")), chromedp.Click(chromedp.ID("login-submit")))
	p = settle(t, tab)
	if p.Error != "" || p.Login || p.View != "auditor" || p.Chain != "verified" || p.Seed != "verified" {
		t.Errorf("after logging in: error %q, login %v, view %q, chain %q, seed %q", p.Error, p.Login, p.View, p.Chain, p.Seed)
	}
	cells := browser.Run(t, tab, wait, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#board .tictactoe .cell")].map((c) => c.dataset.mark)`))
	var a replayAnswer
	n.get(t, "bob", fmt.Sprintf("/v1/games/%s/replay", g.ID), &a)
	var ttt struct{ Board []int }
	json.Unmarshal(a.State.State, &ttt)
	for i, m := range ttt.Board {
		if i >= len(cells) || cells[i] != []string{"", "X", "O"}[m] {
			t.Errorf("cell %d: page shows %v, the API says %d", i, cells, m)
			break
		}
	}
	screenshot(t, tab, "tictactoe-finished")
	noProblems(t, tab)
}

// The page's modules in Chromium: the chain code, in Chromium's WebCrypto,
// gives the test vector of docs/eventlog.md; a game without a renderer is
// drawn as its state's JSON, and so is a state a renderer cannot read.
func TestBrowserPageModules(t *testing.T) {
	n := startNode(t, testenv.Stores(t)[0].Open(t)) // jetstream: only the page is used
	tab := browser.Start(t)
	tab.Do(t, wait, chromedp.Navigate(n.url+"/replay/"+vectorGame.String()))

	t.Run("chain vector", func(t *testing.T) {
		vector, _ := json.Marshal(toWire(vectorEvents()))
		got := browser.Run(t, tab, wait, chromedp.Evaluate[[]string](fmt.Sprintf(`(async () => {
			const m = await import("/replay/static/chain.js");
			const out = [];
			let prev = m.ZERO_HASH;
			for (const e of %s) {
				const h = await m.eventHash(%q, prev, { seq: e.seq, version: e.version, type: e.type, actor: e.actor,
					messageID: e.stored.message_id, data: e.stored.data, recordedAtUs: e.stored.recorded_at_us });
				out.push(h);
				prev = m.hexToBytes(h);
			}
			return out;
		})()`, vector, vectorGame), chromedp.EvalAwaitPromise))
		if !slices.Equal(got, vectorHashes) {
			t.Errorf("Chromium computes %v, docs/eventlog.md says %v", got, vectorHashes)
		}
	})

	t.Run("unknown game is JSON", func(t *testing.T) {
		got := browser.Run(t, tab, wait, chromedp.Evaluate[[]string](`(async () => {
			const m = await import("/replay/static/boards.js");
			const view = (state) => ({ state, turn: [], events: [], at: 1 });
			return [m.renderBoard("chess", view({ fen: "<b>8/8</b>" })), m.renderBoard("crazyeights", view({ v: 2 }))]
				.map((el) => {
					const pre = el.matches("pre.json") ? el : el.querySelector("pre.json");
					return pre && !el.querySelector("b") ? pre.textContent : el.outerHTML; // text, never markup
				});
		})()`, chromedp.EvalAwaitPromise))
		if len(got) != 2 || got[0] != "{\n  \"fen\": \"<b>8/8</b>\"\n}" || got[1] != "{\n  \"v\": 2\n}" {
			t.Errorf("fallbacks: %q", got)
		}
	})
}
