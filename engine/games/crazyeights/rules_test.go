package crazyeights_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/playlog/playlog/engine"
	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/crazyeights"
)

func cards(s string) []crazyeights.Card {
	out := []crazyeights.Card{}
	for _, f := range strings.Fields(s) {
		c, err := crazyeights.ParseCard(f)
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

func card(s string) crazyeights.Card { return cards(s)[0] }

// dealt is a deal of hands (one string of cards per player, seats alice,
// bob, ...), a deck and the top card.
func dealt(deck, top string, hands ...string) []engine.Event {
	players := enginetest.Players(len(hands))
	d := crazyeights.Dealt{Deck: cards(deck), Top: card(top)}
	for i, h := range hands {
		d.Hands = append(d.Hands, crazyeights.Hand{Player: players[i], Cards: cards(h)})
	}
	return []engine.Event{
		enginetest.Created(crazyeights.Name, "{}", players...),
		enginetest.Ev(engine.System, d),
	}
}

// given folds a deal and then commands "actor action", in order.
func given(t *testing.T, deal []engine.Event, commands ...string) engine.State {
	t.Helper()
	g := crazyeights.Game()
	s := enginetest.Given(t, g, deal...)
	for _, c := range commands {
		actor, action, _ := strings.Cut(c, " ")
		s = enginetest.After(t, g, s, actor, action)
	}
	return s
}

func TestTurns(t *testing.T) {
	g := crazyeights.Game()
	twoPlayers := dealt("2C 3C 4C", "5H", "7H 5S 8D KC", "9H JD QS AC")
	tests := []struct {
		name   string
		deal   []engine.Event
		given  []string
		actor  string
		action string
		then   []engine.Payload
	}{
		{"a card of the suit to follow can be played", twoPlayers, nil, "alice", `{"type":"play","card":"7H"}`,
			[]engine.Payload{crazyeights.Played{Player: "alice", Card: card("7H")}}},
		{"a card of the top card's rank can be played", twoPlayers, nil, "alice", `{"type":"play","card":"5S"}`,
			[]engine.Payload{crazyeights.Played{Player: "alice", Card: card("5S")}}},
		{"an 8 can be played on anything", twoPlayers, nil, "alice", `{"type":"play","card":"8D"}`,
			[]engine.Payload{crazyeights.Played{Player: "alice", Card: card("8D")}}},
		{"after an 8 its player names a suit", twoPlayers, []string{`alice {"type":"play","card":"8D"}`}, "alice", `{"type":"name_suit","suit":"C"}`,
			[]engine.Payload{crazyeights.SuitNamed{Player: "alice", Suit: "C"}}},
		{"the named suit must be followed", twoPlayers, []string{`alice {"type":"play","card":"8D"}`, `alice {"type":"name_suit","suit":"S"}`}, "bob", `{"type":"play","card":"QS"}`,
			[]engine.Payload{crazyeights.Played{Player: "bob", Card: card("QS")}}},
		{"a player who cannot play draws the top of the deck", dealt("2C 3C", "5H", "7S KC", "9H"), nil, "alice", `{"type":"draw"}`,
			[]engine.Payload{crazyeights.Drew{Player: "alice", Card: card("2C")}}},
		{"after drawing a player may pass", dealt("2C 3C", "5H", "7S KC", "9H"), []string{`alice {"type":"draw"}`}, "alice", `{"type":"pass"}`,
			[]engine.Payload{crazyeights.Passed{Player: "alice"}}},
		{"after drawing a playable card a player may play it", dealt("5C 3C", "5H", "7S KC", "9H"), []string{`alice {"type":"draw"}`}, "alice", `{"type":"play","card":"5C"}`,
			[]engine.Payload{crazyeights.Played{Player: "alice", Card: card("5C")}}},
		{"with nothing to draw a player who cannot play passes, blocked", dealt("", "5H", "7S KC", "9S"), nil, "alice", `{"type":"pass"}`,
			[]engine.Payload{crazyeights.Passed{Player: "alice", Blocked: true}}},
		{"emptying your hand wins", dealt("2C", "5H", "7H", "9H JD"), nil, "alice", `{"type":"play","card":"7H"}`,
			append([]engine.Payload{crazyeights.Played{Player: "alice", Card: card("7H")}}, enginetest.Ended(engine.Win("alice"))...)},
		{"an 8 as the last card wins without naming a suit", dealt("2C", "5H", "8S", "9H JD"), nil, "alice", `{"type":"play","card":"8S"}`,
			append([]engine.Payload{crazyeights.Played{Player: "alice", Card: card("8S")}}, enginetest.Ended(engine.Win("alice"))...)},
		{"when everyone is blocked the fewest cards win", dealt("", "5H", "7S KC", "9S"), []string{`alice {"type":"pass"}`}, "bob", `{"type":"pass"}`,
			append([]engine.Payload{crazyeights.Passed{Player: "bob", Blocked: true}}, enginetest.Ended(engine.Win("bob"))...)},
		{"a blocked tie is a shared win", dealt("", "5H", "7S", "9S", "JC 2D"), []string{`alice {"type":"pass"}`, `bob {"type":"pass"}`}, "carol", `{"type":"pass"}`,
			append([]engine.Payload{crazyeights.Passed{Player: "carol", Blocked: true}}, enginetest.Ended(engine.Win("alice", "bob"))...)},
		{"play passes round the table", dealt("2C", "5H", "7H 2S", "9H JD", "6H 3D"), []string{`alice {"type":"play","card":"7H"}`, `bob {"type":"play","card":"9H"}`}, "carol", `{"type":"play","card":"6H"}`,
			[]engine.Payload{crazyeights.Played{Player: "carol", Card: card("6H")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := enginetest.When(g, given(t, tt.deal, tt.given...), tt.actor, tt.action)
			enginetest.Then(t, evs, err, tt.then...)
		})
	}
}

func TestRejections(t *testing.T) {
	g := crazyeights.Game()
	deal := dealt("2C 3C 4C", "5H", "7H 5S 8D KC", "9H JD QS AC")
	stuck := dealt("2C 3C", "5H", "7S KC", "9H")
	tests := []struct {
		name   string
		deal   []engine.Event
		given  []string
		actor  string
		action string
		want   error
	}{
		{"a card that follows neither suit nor rank", deal, nil, "alice", `{"type":"play","card":"KC"}`, engine.ErrActionNotAllowed},
		{"a card not in hand", deal, nil, "alice", `{"type":"play","card":"6H"}`, engine.ErrActionNotAllowed},
		{"playing out of turn", deal, nil, "bob", `{"type":"play","card":"9H"}`, engine.ErrNotYourTurn},
		{"drawing while able to play", deal, nil, "alice", `{"type":"draw"}`, engine.ErrActionNotAllowed},
		{"passing without drawing", stuck, nil, "alice", `{"type":"pass"}`, engine.ErrActionNotAllowed},
		{"drawing twice", stuck, []string{`alice {"type":"draw"}`}, "alice", `{"type":"draw"}`, engine.ErrActionNotAllowed},
		{"drawing with nothing to draw", dealt("", "5H", "7S KC", "9S"), nil, "alice", `{"type":"draw"}`, engine.ErrActionNotAllowed},
		{"blocked but able to play", dealt("", "5H", "7H KC", "9S"), nil, "alice", `{"type":"pass"}`, engine.ErrActionNotAllowed},
		{"playing instead of naming the suit", deal, []string{`alice {"type":"play","card":"8D"}`}, "alice", `{"type":"play","card":"7H"}`, engine.ErrActionNotAllowed},
		{"the next player cannot act before the suit is named", deal, []string{`alice {"type":"play","card":"8D"}`}, "bob", `{"type":"play","card":"9H"}`, engine.ErrNotYourTurn},
		{"naming a suit with no 8 played", deal, nil, "alice", `{"type":"name_suit","suit":"H"}`, engine.ErrActionNotAllowed},
		{"ignoring the named suit", deal, []string{`alice {"type":"play","card":"8D"}`, `alice {"type":"name_suit","suit":"S"}`}, "bob", `{"type":"play","card":"9H"}`, engine.ErrActionNotAllowed},
		{"a card that does not exist", deal, nil, "alice", `{"type":"play","card":"11H"}`, engine.ErrInvalidAction},
		{"an unknown card", deal, nil, "alice", `{"type":"play","card":"??"}`, engine.ErrInvalidAction},
		{"a suit that does not exist", deal, []string{`alice {"type":"play","card":"8D"}`}, "alice", `{"type":"name_suit","suit":"X"}`, engine.ErrInvalidAction},
		{"a draw with a card", stuck, nil, "alice", `{"type":"draw","card":"2C"}`, engine.ErrInvalidAction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := enginetest.When(g, given(t, tt.deal, tt.given...), tt.actor, tt.action)
			enginetest.ThenReject(t, evs, err, tt.want)
		})
	}
}

func TestEmptyDeckReshufflesTheDiscardPileButItsTop(t *testing.T) {
	g := crazyeights.Game()
	s := given(t, dealt("", "5H", "7H 6H KC", "9H 4H JS"),
		`alice {"type":"play","card":"7H"}`, `bob {"type":"play","card":"9H"}`, `alice {"type":"play","card":"6H"}`)
	evs, err := enginetest.When(g, s, "bob", `{"type":"play","card":"4H"}`)
	if err != nil {
		t.Fatal(err)
	}
	s = mustApply(t, g, s, evs)
	evs, err = enginetest.When(g, s, "alice", `{"type":"draw"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[1].Type != "reshuffled" || evs[2].Type != "drew" {
		t.Fatalf("got %v, want action, reshuffled, drew", evs)
	}
	var re crazyeights.Reshuffled
	var drew crazyeights.Drew
	json.Unmarshal(evs[1].Data, &re)
	json.Unmarshal(evs[2].Data, &drew)
	wantDeck := cards("5H 7H 9H 6H")
	got := slices.Clone(re.Deck)
	slices.Sort(got)
	slices.Sort(wantDeck)
	if !slices.Equal(got, wantDeck) {
		t.Errorf("reshuffled deck %v, want the discard pile but the top: %v", re.Deck, wantDeck)
	}
	if drew.Card != re.Deck[0] {
		t.Errorf("drew %v, want the new deck's first card %v", drew.Card, re.Deck[0])
	}
	s = mustApply(t, g, s, evs)
	st, _ := engine.RulesState[crazyeights.State](s)
	if !slices.Equal(st.Discard, cards("4H")) || len(st.Deck) != 3 {
		t.Errorf("after the reshuffle discard %v deck %v, want [4H] and 3 cards", st.Discard, st.Deck)
	}
}

func TestDeal(t *testing.T) {
	g := crazyeights.Game()
	for _, tt := range []struct {
		players, handSize int
	}{{2, 7}, {3, 5}, {4, 5}} {
		for seed := range 50 {
			evs, err := g.Create(nil, enginetest.Players(tt.players), enginetest.Seed(seed))
			if err != nil {
				t.Fatal(err)
			}
			s := mustApply(t, g, engine.State{}, evs)
			st, _ := engine.RulesState[crazyeights.State](s)
			all := slices.Concat(st.Deck, st.Discard)
			for _, h := range st.Hands {
				if len(h) != tt.handSize {
					t.Fatalf("%d players: a hand of %d, want %d", tt.players, len(h), tt.handSize)
				}
				all = append(all, h...)
			}
			slices.Sort(all)
			if len(all) != 52 || slices.Compact(all)[51] != 52 {
				t.Fatalf("the deal is not the 52 cards: %v", all)
			}
			if st.Top().Rank() == 8 {
				t.Fatalf("the starter is an 8")
			}
		}
	}
	for _, n := range []int{1, 5} {
		_, err := g.Create(nil, enginetest.Players(n), enginetest.TestSeed)
		enginetest.ThenReject(t, nil, err, engine.ErrInvalidSetup)
	}
}

func TestOthersSeeNeitherHandsNorDeck(t *testing.T) {
	g := crazyeights.Game()
	deal := dealt("2C 3C", "5H", "7S KC", "9H")
	for _, tt := range []struct {
		viewer engine.Viewer
		want   string
	}{
		{engine.AsPlayer("alice"), `{"hands":[{"player":"alice","cards":["7S","KC"]},{"player":"bob","cards":["??"]}],"deck":["??","??"],"top":"5H"}`},
		{engine.AsSpectator(), `{"hands":[{"player":"alice","cards":["??","??"]},{"player":"bob","cards":["??"]}],"deck":["??","??"],"top":"5H"}`},
		{engine.AsAuditor(), `{"hands":[{"player":"alice","cards":["7S","KC"]},{"player":"bob","cards":["9H"]}],"deck":["2C","3C"],"top":"5H"}`},
	} {
		r, err := g.RenderEvent(2, deal[1], tt.viewer)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Data) != tt.want {
			t.Errorf("dealt for %s:\n got %s\nwant %s", tt.viewer, r.Data, tt.want)
		}
	}
	s := given(t, deal)
	evs, _ := enginetest.When(g, s, "alice", `{"type":"draw"}`)
	r, _ := g.RenderEvent(4, evs[1], engine.AsPlayer("bob"))
	if r.Visibility != engine.Redacted || string(r.Data) != `{"player":"alice","card":"??"}` {
		t.Errorf("bob sees alice draw %s %s, want redacted ??", r.Visibility, r.Data)
	}
}

func mustApply(t *testing.T, g *engine.Game, s engine.State, evs []engine.Event) engine.State {
	t.Helper()
	s, err := g.Apply(s, evs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
