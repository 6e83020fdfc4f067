package export_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/export"
)

var (
	gameA = uuid.MustParse("0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10")
	gameB = uuid.MustParse("7d3f1c9e-2b4a-4e6f-8a1d-5c9b0e2f4a61")
	at    = time.Date(2026, 11, 22, 10, 30, 0, 123456000, time.UTC)
	now   = time.Date(2026, 12, 1, 8, 0, 0, 5, time.UTC)
)

// gameOf stamps a game the way a store does, in two appends; its last
// event is the one that ends a game, so that it may carry a final seal.
func gameOf(id uuid.UUID) []eventstore.Event {
	evs := eventstore.Stamp(id, 0, eventstore.Hash{}, at, []eventstore.Pending{
		{Type: "game_created", SchemaVersion: 1, Actor: "alice", Data: []byte(`{"rules":"tictactoe", "players":["alice","bob"]}`)},
	})
	return append(evs, eventstore.Stamp(id, 1, evs[0].Hash, at.Add(time.Second), []eventstore.Pending{
		{Type: "action", SchemaVersion: 1, Actor: "alice", MessageID: "alice/m-1", Data: []byte(`{"cell":4,"note":"<&> \"quoted\" é"}`)},
		{Type: "seed_revealed", SchemaVersion: 2, Actor: "alice", MessageID: "alice/m-1", Data: []byte("{\n  \"cell\": 4\r\n}")},
	})...)
}

func sealOf(e eventstore.Event, kind eventstore.SealKind) eventstore.Seal {
	return eventstore.Seal{GameID: e.GameID, Seq: e.Seq, Hash: e.Hash, Kind: kind, KeyID: "0011223344556677",
		Signature: bytes.Repeat([]byte{byte(e.Seq)}, 64), SealedAt: at.Add(time.Minute)}
}

type block struct {
	events []eventstore.Event
	seals  []eventstore.Seal
}

func fixture() []block {
	a, b := gameOf(gameA), gameOf(gameB)
	return []block{
		{a, []eventstore.Seal{sealOf(a[1], eventstore.SealCheckpoint), sealOf(a[2], eventstore.SealFinal)}},
		{b, nil},
	}
}

func write(t *testing.T, blocks []block) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := export.NewWriter(&buf, "jetstream:PLAYLOG", now)
	for _, b := range blocks {
		if err := w.WriteGame(b.events, b.seals); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, r io.Reader) (export.Header, []export.Game) {
	t.Helper()
	x, err := export.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var games []export.Game
	for {
		g, err := x.Next()
		if err == io.EOF {
			return x.Header(), games
		}
		if err != nil {
			t.Fatal(err)
		}
		games = append(games, g)
	}
}

// The format, pinned: a change to these bytes is a new format version.
func TestExportWriterOutput(t *testing.T) {
	a := gameOf(gameA)
	out := write(t, []block{{a[:1], []eventstore.Seal{sealOf(a[0], eventstore.SealCheckpoint)}}})
	want := `{"format":"playlog.export","version":1,"exported_at":"2026-12-01T08:00:00.000000005Z","source":"jetstream:PLAYLOG"}
{"game":"0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10","events":1}
{"game_id":"0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10","seq":1,"type":"game_created","schema_version":1,"actor":"alice","message_id":"","data":{"rules":"tictactoe", "players":["alice","bob"]},"recorded_at":"2026-11-22T10:30:00.123456Z","prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"` + a[0].Hash.String() + `"}
{"seal":{"game_id":"0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10","seq":1,"hash":"` + a[0].Hash.String() + `","kind":"checkpoint","key_id":"0011223344556677","signature":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==","sealed_at":"2026-11-22T10:31:00.123456Z"}}
{"game_end":"0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10","events":1,"head_hash":"` + a[0].Hash.String() + `","seals":1}
{"end":true,"games":1,"events":1}
`
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	// Data with a line break cannot be copied into a line: base64.
	out = write(t, []block{{a, nil}})
	if !strings.Contains(string(out), `"data_base64":"ewogICJjZWxsIjogNA0KfQ=="`) || bytes.Count(out, []byte("\n")) != 7 {
		t.Fatalf("data with line breaks:\n%s", out)
	}
}

func TestExportRoundTrip(t *testing.T) {
	blocks := fixture()
	out := write(t, blocks)
	h, games := readAll(t, bytes.NewReader(out))
	if h.Format != export.Format || h.Version != 1 || !h.ExportedAt.Equal(now) || h.Source != "jetstream:PLAYLOG" {
		t.Fatalf("header %+v", h)
	}
	if len(games) != len(blocks) {
		t.Fatalf("%d games", len(games))
	}
	for i, g := range games {
		b := blocks[i]
		if g.ID != b.events[0].GameID || g.HeadHash != b.events[len(b.events)-1].Hash {
			t.Fatalf("game %d: %s head %s", i, g.ID, g.HeadHash)
		}
		if !reflect.DeepEqual(g.Events, b.events) {
			t.Fatalf("game %d events:\n%+v\nwant\n%+v", i, g.Events, b.events)
		}
		if len(g.Seals) != len(b.seals) || (len(b.seals) > 0 && !reflect.DeepEqual(g.Seals, b.seals)) {
			t.Fatalf("game %d seals:\n%+v\nwant\n%+v", i, g.Seals, b.seals)
		}
		if err := export.VerifyGame(g, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Written again from what was read: the same bytes.
	var again []block
	for _, g := range games {
		again = append(again, block{g.Events, g.Seals})
	}
	if out2 := write(t, again); !bytes.Equal(out, out2) {
		t.Fatalf("not deterministic:\n%s\n%s", out, out2)
	}
}

// The bytes depend on the instants and the data, not on how a backend
// hands them over: a time in another location, a position, a nil vs empty
// message id are the same game.
func TestExportDeterministic(t *testing.T) {
	blocks := fixture()
	want := write(t, blocks)
	tz := time.FixedZone("X", 5*3600+1800)
	var other []block
	for _, b := range blocks {
		evs := append([]eventstore.Event(nil), b.events...)
		for i := range evs {
			evs[i].RecordedAt = evs[i].RecordedAt.In(tz)
			evs[i].Position = eventstore.Position{Major: 99, Minor: uint64(i)}
			evs[i].Data = append([]byte(nil), evs[i].Data...)
		}
		seals := append([]eventstore.Seal(nil), b.seals...)
		for i := range seals {
			seals[i].SealedAt = seals[i].SealedAt.In(tz)
		}
		other = append(other, block{evs, seals})
	}
	if got := write(t, other); !bytes.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestExportGzipSniffed(t *testing.T) {
	out := write(t, fixture())
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(out)
	zw.Close()
	_, plain := readAll(t, bytes.NewReader(out))
	_, unzipped := readAll(t, bytes.NewReader(z.Bytes()))
	if !reflect.DeepEqual(plain, unzipped) {
		t.Fatal("gzip input read differently")
	}
	// A cut gzip stream is a truncated export.
	_, err := readErr(z.Bytes()[:z.Len()-10])
	if !errors.Is(err, export.ErrTruncated) && !errors.Is(err, export.ErrMalformed) {
		t.Fatalf("cut gzip: %v", err)
	}
}

// readErr reads all of b and returns the games read and the first error
// that is not the final io.EOF.
func readErr(b []byte) ([]export.Game, error) {
	x, err := export.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var games []export.Game
	for {
		g, err := x.Next()
		if err == io.EOF {
			return games, nil
		}
		if err != nil {
			if _, again := x.Next(); again != err {
				return games, errors.New("the error is not sticky")
			}
			return games, err
		}
		games = append(games, g)
	}
}

// A file cut anywhere, at a line break or inside a line, is never read as
// a whole export.
func TestExportTruncated(t *testing.T) {
	out := write(t, fixture())
	for n := 1; n < len(out)-1; n++ { // out[:len-1] only lacks the last "\n"
		_, err := readErr(out[:n])
		if err == nil {
			t.Fatalf("cut after %d of %d bytes: read as whole", n, len(out))
		}
		if !errors.Is(err, export.ErrTruncated) && !errors.Is(err, export.ErrMalformed) && !errors.Is(err, export.ErrNotExport) {
			t.Fatalf("cut after %d bytes: %v", n, err)
		}
	}
	lines := strings.SplitAfter(string(out), "\n")
	noTrailer := strings.Join(lines[:len(lines)-2], "")
	if _, err := readErr([]byte(noTrailer)); !errors.Is(err, export.ErrTruncated) || !strings.Contains(err.Error(), "without the trailer") {
		t.Fatalf("no trailer: %v", err)
	}
	inside := strings.Join(lines[:3], "")
	if _, err := readErr([]byte(inside)); !errors.Is(err, export.ErrTruncated) || !strings.Contains(err.Error(), "after 1 of its 3 events") {
		t.Fatalf("cut inside a game: %v", err)
	}
}

func TestExportBadHeader(t *testing.T) {
	for _, in := range []string{
		"",
		"hello\n",
		`{"format":"something.else","version":1}` + "\n",
		`[1,2,3]` + "\n",
		`{"game":"0b5c7a42-5e0c-4c8e-9d2a-3f1e6f3b9a10","events":1}` + "\n",
	} {
		_, err := export.NewReader(strings.NewReader(in))
		if !errors.Is(err, export.ErrNotExport) {
			t.Fatalf("%q: %v", in, err)
		}
	}
}

func TestExportBadVersion(t *testing.T) {
	_, err := export.NewReader(strings.NewReader(`{"format":"playlog.export","version":2,"exported_at":"2026-12-01T08:00:00Z","source":""}` + "\n"))
	if !errors.Is(err, export.ErrVersion) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("version 2: %v", err)
	}
}

// Structural faults in a file are errors of Next, naming the line.
func TestExportMalformed(t *testing.T) {
	out := string(write(t, fixture()))
	lines := strings.SplitAfter(out, "\n")
	lines = lines[:len(lines)-1] // the empty string after the last "\n"
	edit := func(i int, from, to string) string {
		l := append([]string(nil), lines...)
		if !strings.Contains(l[i], from) {
			t.Fatalf("line %d has no %q: %s", i, from, l[i])
		}
		l[i] = strings.Replace(l[i], from, to, 1)
		return strings.Join(l, "")
	}
	drop := func(i int) string {
		return strings.Join(append(append([]string(nil), lines[:i]...), lines[i+1:]...), "")
	}
	// lines: 0 header, 1 game A, 2-4 events, 5-6 seals, 7 game_end, 8 game B, 9-11, 12 game_end, 13 trailer.
	for name, c := range map[string]struct {
		in   string
		want string
	}{
		"game line count": {edit(1, `"events":3`, `"events":2`), "expected a seal"},
		"game_end count":  {edit(7, `"events":3`, `"events":4`), "game_end counts 4 events"},
		"seal count":      {edit(7, `"seals":2`, `"seals":1`), "game_end counts 1 seals"},
		"missing seal":    {drop(5), "game_end counts 2 seals, the block holds 1"},
		"other game":      {edit(3, gameA.String(), gameB.String()), "belongs to game " + gameB.String()},
		"seal other game": {edit(5, `{"seal":{"game_id":"`+gameA.String(), `{"seal":{"game_id":"`+gameB.String()), "a seal of game"},
		"end other game":  {edit(7, `"game_end":"`+gameA.String(), `"game_end":"`+gameB.String()), "ends with the game_end of game"},
		"bad json":        {edit(3, `{"game_id"`, `{"game_id`), "event 2 of 3"},
		"unknown field":   {edit(3, `"seq":2`, `"seq":2,"extra":1`), `unknown field "extra"`},
		"two data":        {edit(3, `"data":`, `"data_base64":"","data":`), "exactly one of data and data_base64"},
		"bad time":        {edit(3, `.123456Z`, `.123456+00:00`), "recorded_at"},
		"short time":      {edit(3, `10:30:01.123456Z`, `10:30:01.123Z`), "recorded_at"},
		"trailer games":   {edit(13, `"games":2`, `"games":3`), "the trailer counts 3 games"},
		"trailer events":  {edit(13, `"events":6`, `"events":5`), "the trailer counts 2 games and 5 events"},
		"after trailer":   {out + lines[1], "data after the trailer"},
		"empty line":      {edit(8, "{", "\n{"), "an empty line"},
		"game twice":      {strings.Join(append(append(append([]string(nil), lines[:8]...), lines[1:8]...), lines[8:]...), ""), "appears twice"},
		"zero events":     {edit(8, `"events":3`, `"events":0`), "at least one"},
		"trailing data":   {edit(1, "}\n", "} {}\n"), "data after the JSON object"},
		"neither":         {edit(1, `"game":`, `"gaem":`), "unknown field"},
	} {
		_, err := readErr([]byte(c.in))
		if !errors.Is(err, export.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestExportLineTooLong(t *testing.T) {
	out := write(t, fixture())
	long := bytes.Replace(out, []byte(`"players":["alice","bob"]`), []byte(`"players":["`+strings.Repeat("x", export.MaxLine)+`"]`), 1)
	_, err := readErr(long)
	if !errors.Is(err, export.ErrMalformed) || !strings.Contains(err.Error(), "line 3 is longer than") {
		t.Fatalf("long line: %v", err)
	}
	// The writer refuses to write what a reader would refuse.
	evs := gameOf(gameA)
	evs[0].Data = []byte(`"` + strings.Repeat("x", export.MaxLine) + `"`)
	w := export.NewWriter(io.Discard, "", now)
	if err := w.WriteGame(evs, nil); err == nil {
		t.Fatal("a line over MaxLine written")
	}
}

func TestExportWriterRefusesIllShapedGames(t *testing.T) {
	a := gameOf(gameA)
	for name, c := range map[string]block{
		"empty":      {nil, nil},
		"not from 1": {a[1:], nil},
		"mixed":      {append(append([]eventstore.Event(nil), a...), gameOf(gameB)[2]), nil},
		"other seal": {a, []eventstore.Seal{sealOf(gameOf(gameB)[0], eventstore.SealFinal)}},
	} {
		var buf bytes.Buffer
		w := export.NewWriter(&buf, "", now)
		if err := w.WriteGame(c.events, c.seals); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	var buf bytes.Buffer
	w := export.NewWriter(&buf, "", now)
	if err := w.WriteGame(a, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteGame(a, nil); err == nil {
		t.Fatal("a game written twice")
	}
	w.Close()
	if err := w.WriteGame(gameOf(gameB), nil); err == nil {
		t.Fatal("written after Close")
	}
	if _, games := readAll(t, &buf); len(games) != 1 {
		t.Fatalf("%d games", len(games))
	}
}

func TestExportVerifyGame(t *testing.T) {
	good := func() export.Game {
		b := fixture()[0]
		evs := append([]eventstore.Event(nil), b.events...)
		return export.Game{ID: gameA, Events: evs, Seals: append([]eventstore.Seal(nil), b.seals...), HeadHash: evs[len(evs)-1].Hash}
	}
	if err := export.VerifyGame(good(), nil); err != nil {
		t.Fatal(err)
	}
	badSig := errors.New("bad signature")
	for name, c := range map[string]struct {
		edit  func(g *export.Game)
		check func(eventstore.Seal) error
		want  string
	}{
		"tampered data": {edit: func(g *export.Game) { g.Events[1].Data = []byte(`{"cell":5,"note":"<&> \"quoted\" é"}`) },
			want: "chain broken at seq 2: hash does not match its contents"},
		"tampered time": {edit: func(g *export.Game) { g.Events[0].RecordedAt = g.Events[0].RecordedAt.Add(time.Microsecond) }, want: "chain broken at seq 1"},
		"rehashed": {edit: func(g *export.Game) {
			g.Events[2].Type = "other"
			g.Events[2].Hash = eventstore.ChainHash(g.Events[1].Hash, &g.Events[2])
		}, want: "head_hash"},
		"gap":             {edit: func(g *export.Game) { g.Events = append(g.Events[:1], g.Events[2]) }, want: "event 2 has seq 3"},
		"not from 1":      {edit: func(g *export.Game) { g.Events = g.Events[1:] }, want: "event 1 has seq 2"},
		"other game":      {edit: func(g *export.Game) { g.Events[0].GameID = gameB }, want: "belongs to game"},
		"no events":       {edit: func(g *export.Game) { g.Events = nil }, want: "no events"},
		"seal hash":       {edit: func(g *export.Game) { g.Seals[0].Hash = g.Events[0].Hash }, want: "seal 1 (checkpoint at seq 2) has hash"},
		"seal beyond":     {edit: func(g *export.Game) { g.Seals[0].Seq = 4 }, want: "is at seq 4, the game has 3 events"},
		"seal seq 0":      {edit: func(g *export.Game) { g.Seals[0].Seq = 0 }, want: "is at seq 0"},
		"seal other game": {edit: func(g *export.Game) { g.Seals[1].GameID = gameB }, want: "seal 2 belongs to game"},
		"final not last": {edit: func(g *export.Game) { g.Seals[0].Kind = eventstore.SealFinal },
			want: "final at seq 2, but events follow it"},
		"seal kind": {edit: func(g *export.Game) { g.Seals[0].Kind = "weekly" }, want: `unknown kind "weekly"`},
		"final on a running game": {edit: func(g *export.Game) {
			last := &g.Events[2]
			last.Type = "placed"
			last.Hash = eventstore.ChainHash(g.Events[1].Hash, last)
			g.HeadHash, g.Seals[1].Hash = last.Hash, last.Hash
		}, want: "seal 2 is final, but the game's log does not end it"},
		"signature": {check: func(s eventstore.Seal) error {
			if s.Kind == eventstore.SealFinal {
				return badSig
			}
			return nil
		}, want: "seal 2 (final at seq 3): bad signature"},
	} {
		g := good()
		if c.edit != nil {
			c.edit(&g)
		}
		err := export.VerifyGame(g, c.check)
		if !errors.Is(err, export.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if c.check != nil && !errors.Is(err, badSig) {
			t.Errorf("%s: %v does not wrap the checker's error", name, err)
		}
	}
}

// A tampered event in a file is read (the block is well formed) and
// caught by VerifyGame.
func TestExportTamperedFileCaught(t *testing.T) {
	out := write(t, fixture())
	tampered := bytes.Replace(out, []byte(`{"cell":4,"note"`), []byte(`{"cell":5,"note"`), 1)
	games, err := readErr(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.VerifyGame(games[0], nil); !errors.Is(err, export.ErrInvalid) || !strings.Contains(err.Error(), "seq 2") {
		t.Fatalf("tampered: %v", err)
	}
	if err := export.VerifyGame(games[1], nil); err != nil {
		t.Fatal(err)
	}
}

// FuzzReader: no input makes the reader panic or hang, every error is
// sticky, and a game it returns re-exports to a file that reads back to
// the same game (the reader accepts only what the writer could write).
func FuzzReader(f *testing.F) {
	f.Add(write(&testing.T{}, fixture()))
	f.Add([]byte(`{"format":"playlog.export","version":1,"exported_at":"2026-01-01T00:00:00Z","source":""}` + "\n" + `{"end":true,"games":0,"events":0}` + "\n"))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		games, err := readErr(b)
		if err != nil && err.Error() == "the error is not sticky" {
			t.Fatal(err)
		}
		for _, g := range games {
			export.VerifyGame(g, nil)
			var buf bytes.Buffer
			w := export.NewWriter(&buf, "", now)
			if w.WriteGame(g.Events, g.Seals) != nil {
				continue // the reader may return games the writer refuses to write (for instance ill-chained ones)
			}
			w.Close()
			// The head re-exported is its last event's: a game_end line
			// that names another is tamper evidence, which the reader
			// passes on for VerifyGame to report, not a reading to keep.
			again, err := readErr(buf.Bytes())
			if err != nil || len(again) != 1 || len(again[0].Events) != len(g.Events) ||
				len(g.Events) == 0 || again[0].HeadHash != g.Events[len(g.Events)-1].Hash {
				t.Fatalf("a game read back re-exports to something else: %v", err)
			}
		}
	})
}

// A line that reads but is not as export writes it is refused: Go's
// decoder matches keys in any case and keeps the last of two, so other
// spellings of a line would read as it, and a reader that kept the first
// of two keys would check other bytes than import stores.
func TestOtherSpellingsAreRefused(t *testing.T) {
	a := gameOf(gameA)
	file := write(t, []block{{a, nil}})
	for name, edit := range map[string][2]string{
		"key in upper case":     {`,"seq":1,`, `,"SEQ":1,`},
		"duplicate key":         {`,"seq":1,`, `,"seq":7,"seq":1,`},
		"data_base64 null":      {`,"recorded_at"`, `,"data_base64":null,"recorded_at"`},
		"fields in other order": {`"game_id":"` + gameA.String() + `","seq":1,`, `"seq":1,"game_id":"` + gameA.String() + `",`},
		"escaped otherwise":     {`"type":"game_created"`, `"type":"game\u005fcreated"`},
		"space after a colon":   {`,"seq":1,`, `,"seq": 1,`},
	} {
		f := bytes.Replace(file, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(f, file) {
			t.Fatalf("%s: nothing replaced", name)
		}
		x, err := export.NewReader(bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Next(); !errors.Is(err, export.ErrMalformed) || !strings.Contains(err.Error(), "not as export writes it") {
			t.Errorf("%s: %v, want the line refused", name, err)
		}
	}
}
