package liarsdice_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/liarsdice"
)

// rolled is a round: each string is a player's dice ("35511"), seats
// alice, bob, ...; "" is an eliminated player.
func rolled(starter string, hands ...string) liarsdice.Rolled {
	r := liarsdice.Rolled{Starter: starter}
	for i, h := range hands {
		dice := []int{}
		for _, c := range h {
			dice = append(dice, int(c-'0'))
		}
		r.Hands = append(r.Hands, liarsdice.Hand{Player: enginetest.Names[i], Dice: dice})
	}
	return r
}

// given is a game whose first round is round, after commands "actor
// action".
func given(t *testing.T, round liarsdice.Rolled, commands ...string) engine.State {
	t.Helper()
	g := liarsdice.Game()
	s := enginetest.Given(t, g,
		enginetest.Created(liarsdice.Name, "{}", enginetest.Players(len(round.Hands))...),
		enginetest.Ev(engine.System, round))
	for _, c := range commands {
		actor, action, _ := strings.Cut(c, " ")
		s = enginetest.After(t, g, s, actor, action)
	}
	return s
}

func TestBids(t *testing.T) {
	g := liarsdice.Game()
	round := rolled("alice", "11234", "55566")
	tests := []struct {
		name   string
		given  []string
		actor  string
		action string
		then   []engine.Payload
	}{
		{"the first bid may be anything", nil, "alice", `{"type":"bid","quantity":1,"face":6}`,
			[]engine.Payload{liarsdice.BidMade{Player: "alice", Quantity: 1, Face: 6}}},
		{"a higher quantity with a lower face raises", []string{`alice {"type":"bid","quantity":2,"face":6}`}, "bob", `{"type":"bid","quantity":3,"face":1}`,
			[]engine.Payload{liarsdice.BidMade{Player: "bob", Quantity: 3, Face: 1}}},
		{"the same quantity with a higher face raises", []string{`alice {"type":"bid","quantity":2,"face":3}`}, "bob", `{"type":"bid","quantity":2,"face":4}`,
			[]engine.Payload{liarsdice.BidMade{Player: "bob", Quantity: 2, Face: 4}}},
		{"a bid of every die on the table is allowed", nil, "alice", `{"type":"bid","quantity":10,"face":6}`,
			[]engine.Payload{liarsdice.BidMade{Player: "alice", Quantity: 10, Face: 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := enginetest.When(g, given(t, round, tt.given...), tt.actor, tt.action)
			enginetest.Then(t, evs, err, tt.then...)
		})
	}
}

func TestRejections(t *testing.T) {
	g := liarsdice.Game()
	round := rolled("alice", "11234", "55566")
	tests := []struct {
		name   string
		given  []string
		actor  string
		action string
		want   error
	}{
		{"a lower quantity", []string{`alice {"type":"bid","quantity":3,"face":2}`}, "bob", `{"type":"bid","quantity":2,"face":6}`, engine.ErrActionNotAllowed},
		{"the same bid again", []string{`alice {"type":"bid","quantity":3,"face":2}`}, "bob", `{"type":"bid","quantity":3,"face":2}`, engine.ErrActionNotAllowed},
		{"the same quantity with a lower face", []string{`alice {"type":"bid","quantity":3,"face":2}`}, "bob", `{"type":"bid","quantity":3,"face":1}`, engine.ErrActionNotAllowed},
		{"more dice than on the table", nil, "alice", `{"type":"bid","quantity":11,"face":2}`, engine.ErrActionNotAllowed},
		{"a challenge with no bid", nil, "alice", `{"type":"challenge"}`, engine.ErrActionNotAllowed},
		{"bidding out of turn", nil, "bob", `{"type":"bid","quantity":1,"face":2}`, engine.ErrNotYourTurn},
		{"challenging your own bid", []string{`alice {"type":"bid","quantity":1,"face":2}`}, "alice", `{"type":"challenge"}`, engine.ErrNotYourTurn},
		{"a face of 7", nil, "alice", `{"type":"bid","quantity":1,"face":7}`, engine.ErrInvalidAction},
		{"a face of 0", nil, "alice", `{"type":"bid","quantity":1,"face":0}`, engine.ErrInvalidAction},
		{"a quantity of 0", nil, "alice", `{"type":"bid","quantity":0,"face":2}`, engine.ErrInvalidAction},
		{"a bid without a face", nil, "alice", `{"type":"bid","quantity":1}`, engine.ErrInvalidAction},
		{"an eliminated player cannot resign", nil, "carol", `{"type":"resign"}`, engine.ErrActionNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, round, tt.given...)
			if tt.actor == "carol" {
				s = given(t, rolled("alice", "11234", "55566", ""))
			}
			evs, err := enginetest.When(g, s, tt.actor, tt.action)
			enginetest.ThenReject(t, evs, err, tt.want)
		})
	}
}

func TestChallenges(t *testing.T) {
	g := liarsdice.Game()
	tests := []struct {
		name      string
		round     liarsdice.Rolled
		given     []string
		challenge string
		loser     string
		count     int
		starter   string // of the next round; "" if the game ends
		dice      []int  // dice per player after the challenge
	}{
		{"a bid met exactly stands and the challenger loses a die", rolled("alice", "11234", "55566"),
			[]string{`alice {"type":"bid","quantity":3,"face":5}`}, "bob", "bob", 3, "bob", []int{5, 4}},
		{"a bid not met loses the bidder a die", rolled("alice", "11234", "55566"),
			[]string{`alice {"type":"bid","quantity":3,"face":1}`}, "bob", "alice", 2, "alice", []int{4, 5}},
		{"ones are not wild", rolled("alice", "11234", "55566"),
			[]string{`alice {"type":"bid","quantity":2,"face":6}`, `bob {"type":"bid","quantity":3,"face":6}`}, "alice", "bob", 2, "bob", []int{5, 4}},
		{"an eliminated loser's round is started by the next player in", rolled("bob", "2", "3", "4"),
			[]string{`bob {"type":"bid","quantity":1,"face":6}`}, "carol", "bob", 0, "carol", []int{1, 0, 1}},
		{"eliminated players are skipped", rolled("carol", "2", "", "4", "5"),
			[]string{`carol {"type":"bid","quantity":1,"face":2}`}, "dave", "dave", 1, "alice", []int{1, 0, 1, 0}},
		{"the last player with dice wins", rolled("alice", "6", "1"),
			[]string{`alice {"type":"bid","quantity":1,"face":6}`}, "bob", "bob", 1, "", []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, tt.round, tt.given...)
			evs, err := enginetest.When(g, s, tt.challenge, `{"type":"challenge"}`)
			if err != nil {
				t.Fatal(err)
			}
			var c liarsdice.Challenged
			json.Unmarshal(evs[1].Data, &c)
			if evs[1].Type != "challenged" || c.Loser != tt.loser || c.Count != tt.count {
				t.Fatalf("got %s %s, want loser %s count %d", evs[1].Type, evs[1].Data, tt.loser, tt.count)
			}
			s, err = g.Apply(s, evs...)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := engine.RulesState[liarsdice.State](s)
			var dice []int
			for _, h := range st.Hands {
				dice = append(dice, len(h))
			}
			if !slices.Equal(dice, tt.dice) {
				t.Errorf("dice after the challenge %v, want %v", dice, tt.dice)
			}
			if tt.starter == "" {
				if out := s.Outcome(); !out.Ended || !slices.Equal(out.Winners, []string{"alice"}) {
					t.Errorf("outcome %+v, want alice wins", out)
				}
				return
			}
			if turn := g.Turn(s); !slices.Equal(turn, []string{tt.starter}) || evs[2].Type != "rolled" {
				t.Errorf("next round starts with %v (%s), want %s", turn, evs[2].Type, tt.starter)
			}
		})
	}
}

func TestResignationHandsTheWinToThoseStillIn(t *testing.T) {
	g := liarsdice.Game()
	evs, err := enginetest.When(g, given(t, rolled("alice", "12", "", "3")), "alice", `{"type":"resign"}`)
	enginetest.Then(t, evs, err, enginetest.Ended(engine.Outcome{Ended: true, Winners: []string{"carol"}, Reason: engine.ReasonResignation})...)
}

func TestOthersDiceAreHidden(t *testing.T) {
	g := liarsdice.Game()
	ev := enginetest.Ev(engine.System, rolled("alice", "12", "34"))
	for _, tt := range []struct {
		viewer engine.Viewer
		want   string
	}{
		{engine.AsPlayer("bob"), `{"starter":"alice","hands":[{"player":"alice","dice":[0,0]},{"player":"bob","dice":[3,4]}]}`},
		{engine.AsSpectator(), `{"starter":"alice","hands":[{"player":"alice","dice":[0,0]},{"player":"bob","dice":[0,0]}]}`},
	} {
		r, err := g.RenderEvent(2, ev, tt.viewer)
		if err != nil || r.Visibility != engine.Redacted || string(r.Data) != tt.want {
			t.Errorf("rolled for %s: %s %s %v, want redacted %s", tt.viewer, r.Visibility, r.Data, err, tt.want)
		}
	}
}

func TestEveryoneRollsFiveDice(t *testing.T) {
	g := liarsdice.Game()
	for n := 2; n <= 6; n++ {
		evs, err := g.Create(nil, enginetest.Players(n), enginetest.TestSeed)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := g.Apply(engine.State{}, evs...)
		st, _ := engine.RulesState[liarsdice.State](s)
		for _, h := range st.Hands {
			if len(h) != 5 || slices.ContainsFunc(h, func(d int) bool { return d < 1 || d > 6 }) {
				t.Fatalf("%d players: hand %v", n, h)
			}
		}
	}
	for _, n := range []int{1, 7} {
		_, err := g.Create(nil, enginetest.Players(n), enginetest.TestSeed)
		enginetest.ThenReject(t, nil, err, engine.ErrInvalidSetup)
	}
}
