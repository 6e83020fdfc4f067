package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

func testBadInput(t *testing.T, b Backend) {
	s := open(t, b)
	game := uuid.New()
	mustAppend(t, s, game, 0, ev("created", "", `{}`))
	fresh := uuid.New()

	big := `"` + strings.Repeat("x", eventstore.MaxEventData) + `"`
	many := make([]eventstore.Pending, eventstore.MaxAppendEvents+1)
	for i := range many {
		many[i] = ev("e", "", `{}`)
	}
	bulky := make([]eventstore.Pending, 10)
	for i := range bulky {
		bulky[i] = ev("e", "", `"`+strings.Repeat("y", eventstore.MaxAppendData/10)+`"`)
	}
	cases := []struct {
		name   string
		game   uuid.UUID
		events []eventstore.Pending
		want   error
	}{
		{"nil game id", uuid.Nil, []eventstore.Pending{ev("e", "", `{}`)}, eventstore.ErrInvalidArgument},
		{"no events", game, nil, eventstore.ErrEmptyAppend},
		{"data not JSON", game, []eventstore.Pending{ev("e", "", `{"a":`)}, eventstore.ErrInvalidData},
		{"invalid UTF-8 in data", game, []eventstore.Pending{ev("e", "", "\"\xff\"")}, eventstore.ErrInvalidData},
		{"data empty", game, []eventstore.Pending{ev("e", "", ``)}, eventstore.ErrInvalidData},
		{"two JSON values", game, []eventstore.Pending{ev("e", "", `{} {}`)}, eventstore.ErrInvalidData},
		{"white space around data", game, []eventstore.Pending{ev("e", "", ` {}`)}, eventstore.ErrInvalidData},
		{"a newline after data", game, []eventstore.Pending{ev("e", "", "{}\n")}, eventstore.ErrInvalidData},
		{"second event bad", game, []eventstore.Pending{ev("e", "", `{}`), ev("e", "", `nope`)}, eventstore.ErrInvalidData},
		{"event data over limit", game, []eventstore.Pending{ev("e", "", big)}, eventstore.ErrTooLarge},
		{"too many events", game, many, eventstore.ErrTooLarge},
		{"append data over limit", game, bulky, eventstore.ErrTooLarge},
		{"empty type", game, []eventstore.Pending{ev("", "", `{}`)}, eventstore.ErrInvalidArgument},
		{"type with space", game, []eventstore.Pending{ev("card played", "", `{}`)}, eventstore.ErrInvalidArgument},
		{"type upper case", game, []eventstore.Pending{ev("Played", "", `{}`)}, eventstore.ErrInvalidArgument},
		{"schema version 0", game, []eventstore.Pending{{Type: "e", Actor: "a", Data: []byte(`{}`)}}, eventstore.ErrInvalidArgument},
		{"control char in actor", game, []eventstore.Pending{{Type: "e", SchemaVersion: 1, Actor: "a\nb", Data: []byte(`{}`)}}, eventstore.ErrInvalidArgument},
		{"invalid UTF-8 message id", game, []eventstore.Pending{ev("e", "\xff", `{}`)}, eventstore.ErrInvalidArgument},
		{"message id too long", game, []eventstore.Pending{ev("e", strings.Repeat("m", eventstore.MaxMessageIDLen+1), `{}`)}, eventstore.ErrInvalidArgument},
		{"mixed message ids", game, []eventstore.Pending{ev("e", "m1", `{}`), ev("e", "m2", `{}`)}, eventstore.ErrInvalidArgument},
		{"bad input to a new game", fresh, []eventstore.Pending{ev("e", "", `{`)}, eventstore.ErrInvalidData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expected := uint64(1)
			if tc.game == fresh {
				expected = 0
			}
			_, err := s.Append(ctxT(t), tc.game, expected, tc.events...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err.Error() == tc.want.Error() {
				t.Fatalf("error %q says no more than its sentinel", err)
			}
		})
	}
	checkLog(t, readAll(t, s, game), 1)
	if _, err := s.Head(ctxT(t), fresh); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("a rejected first append created the game: %v", err)
	}
	if _, err := s.Read(ctxT(t), uuid.Nil, 0, 0); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("read nil game: %v", err)
	}
	if _, err := s.Subscribe(ctxT(t), uuid.Nil, 0); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("subscribe nil game: %v", err)
	}
}

func testUnknownGame(t *testing.T, b Backend) {
	s := open(t, b)
	g := uuid.New()
	if _, err := s.Read(ctxT(t), g, 0, 10); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("read: %v", err)
	}
	if _, err := s.Head(ctxT(t), g); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("head: %v", err)
	}
	if _, err := s.Subscribe(ctxT(t), g, 0); !errors.Is(err, eventstore.ErrGameNotFound) {
		t.Fatalf("subscribe: %v", err)
	}
}

func testClosedStore(t *testing.T, b Backend) {
	s := b.Open(t, Options{Now: Clock()})
	g := uuid.New()
	mustAppend(t, s, g, 0, ev("e", "", `{}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, g, 1, ev("e", "", `{}`)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append: %v", err)
	}
	if _, err := s.Read(ctx, g, 0, 0); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("read: %v", err)
	}
	if _, err := s.Head(ctx, g); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("head: %v", err)
	}
	if _, err := s.Subscribe(ctx, g, 0); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("subscribe: %v", err)
	}
	if _, err := s.Feed(ctx, eventstore.Position{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("feed: %v", err)
	}
	// Nothing was written: a reopened store still has one event.
	s = open(t, b)
	checkLog(t, readAll(t, s, g), 1)
}
