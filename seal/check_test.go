package seal_test

import (
	"strings"
	"testing"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/seal"
)

// log returns a chained log of n events of game.
func chained(n int) []eventstore.Event {
	p := make([]eventstore.Pending, n)
	for i := range p {
		p[i] = eventstore.Pending{Type: "e", SchemaVersion: 1, Actor: "a", Data: []byte(`{}`)}
	}
	return eventstore.Stamp(game, 0, eventstore.Hash{}, at, p)
}

func sealOf(t *testing.T, s *seal.Signer, e eventstore.Event, kind eventstore.SealKind) eventstore.Seal {
	t.Helper()
	sl, err := s.Sign(e, kind, at)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

func TestCheck(t *testing.T) {
	v := seal.NewVerifier(signer.PublicKey())
	log := chained(10)
	final := sealOf(t, signer, log[9], eventstore.SealFinal)
	cp := sealOf(t, signer, log[4], eventstore.SealCheckpoint)
	rewritten := chained(10)
	rewritten[2].Data = []byte(`{"x":1}`)
	rewritten = eventstore.Stamp(game, 0, eventstore.Hash{}, at, pendingOf(rewritten))
	other := seal.NewSigner(key2)

	cases := []struct {
		name    string
		events  []eventstore.Event
		seals   []eventstore.Seal
		ended   bool
		v       *seal.Verifier
		finding string // "" for none
		covered uint64
	}{
		{"ended and sealed", log, []eventstore.Seal{cp, final}, true, v, "", 10},
		{"active, checkpoint", log, []eventstore.Seal{cp}, false, v, "", 5},
		{"active, no seal", log, nil, false, v, "", 0},
		{"ended, no seal", log, []eventstore.Seal{cp}, true, v, "no sound final seal", 5},
		{"tail cut after the end", log[:8], []eventstore.Seal{cp, final}, true, v, "log ends at 8", 5},
		{"tail cut behind a checkpoint", log[:3], []eventstore.Seal{cp}, false, v, "log ends at 3", 0},
		{"events after the final seal", append(log[:10:10], chained(11)[10]), []eventstore.Seal{final}, true, v, "follow the final seal", 0},
		{"rewritten with its chain", rewritten, []eventstore.Seal{cp, final}, true, v, "was rewritten", 0},
		{"forged seal", log, []eventstore.Seal{sealOf(t, other, log[9], eventstore.SealFinal)}, true, v, "unknown key", 0},
		{"final seal on an active log", log, []eventstore.Seal{final}, false, v, "does not end it", 0},
		{"no verifier: chain only", log, []eventstore.Seal{sealOf(t, other, log[9], eventstore.SealFinal)}, true, nil, "", 10},
		{"no verifier: no seal required", log, nil, true, nil, "", 0},
		{"no verifier: a seal off the chain", log[:8], []eventstore.Seal{final}, true, nil, "log ends at 8", 0},
	}
	for _, c := range cases {
		r := seal.Check(c.events, c.seals, c.v, c.ended)
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.String())
		}
		switch {
		case c.finding == "" && len(got) > 0:
			t.Errorf("%s: findings %q, want none", c.name, got)
		case c.finding != "" && !strings.Contains(strings.Join(got, "; "), c.finding):
			t.Errorf("%s: findings %q, want one saying %q", c.name, got, c.finding)
		}
		if r.Covered != c.covered {
			t.Errorf("%s: covered %d, want %d", c.name, r.Covered, c.covered)
		}
		if r.Verified != (c.v != nil) {
			t.Errorf("%s: verified %v", c.name, r.Verified)
		}
	}
}

func pendingOf(events []eventstore.Event) []eventstore.Pending {
	p := make([]eventstore.Pending, len(events))
	for i, e := range events {
		p[i] = eventstore.Pending{Type: e.Type, SchemaVersion: e.SchemaVersion, Actor: e.Actor, Data: e.Data}
	}
	return p
}
