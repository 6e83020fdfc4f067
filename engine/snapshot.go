package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// A state snapshot is everything a State holds, encoded so that
// RestoreState gives back a State that folds, decides, renders and encodes
// exactly as the original does. It lets a server that has never seen a
// long game start from its last snapshot and fold only the events after
// it, instead of the whole log (docs/snapshots.md). It is a cache of the
// fold, never evidence: Verify and every audit fold the log itself.
//
// A snapshot names the shape of the rules' state type (its fields, their
// JSON names and types, recursively): a build whose state type differs
// refuses the snapshot (ErrSnapshotStale), and the caller folds the log.
// Rules whose state JSON cannot hold in full (an unexported field, an
// interface, a field left out of JSON) cannot be snapshotted at all.

// SnapshotFormat is the version of the snapshot encoding below.
const SnapshotFormat = 1

// ErrSnapshotStale: the snapshot was written for another format, another
// game, or a rules' state of another shape. Fold the log instead.
var ErrSnapshotStale = errors.New("engine: snapshot is stale")

type stateRecord struct {
	Format     int             `json:"format"`
	Game       string          `json:"game"`
	Shape      string          `json:"shape"`
	Seq        uint64          `json:"seq"`
	Players    []string        `json:"players"`
	Config     json.RawMessage `json:"config"`
	Commitment string          `json:"commitment"`
	Outcome    Outcome         `json:"outcome"`
	Seed       []byte          `json:"seed,omitempty"`
	Timer      *timerRecord    `json:"timer,omitempty"`
	Rules      json.RawMessage `json:"rules"`
}

type timerRecord struct {
	Turn     uint64    `json:"turn"`
	Deadline time.Time `json:"deadline"`
	ToAct    []string  `json:"to_act"`
	Graces   uint64    `json:"graces"`
	Timeouts []uint64  `json:"timeouts"`
}

// EncodeState encodes s as a snapshot. Errors: the game's rules cannot be
// snapshotted, or s is not a created game of g.
func (g *Game) EncodeState(s State) ([]byte, error) {
	shape, err := g.k.shape()
	if err != nil {
		return nil, err
	}
	if !s.Created() || s.game != g.name {
		return nil, fmt.Errorf("engine: encode state: not a %s game", g.name)
	}
	rules, err := json.Marshal(s.rules)
	if err != nil {
		return nil, fmt.Errorf("engine: encode %s state: %w", g.name, err)
	}
	r := stateRecord{
		Format: SnapshotFormat, Game: g.name, Shape: shape, Seq: s.seq,
		Players: s.players, Config: s.config, Commitment: s.commitment,
		Outcome: s.outcome, Seed: s.seed, Rules: rules,
	}
	if t := s.timer; t.turn != 0 || t.timeouts != nil || t.toAct != nil || !t.deadline.IsZero() {
		r.Timer = &timerRecord{Turn: t.turn, Deadline: t.deadline, ToAct: t.toAct, Graces: t.graces, Timeouts: t.timeouts}
	}
	return json.Marshal(r)
}

// RestoreState decodes a snapshot EncodeState wrote. Errors wrap
// ErrSnapshotStale (another format, game or state shape) or
// ErrCorruptLog (a snapshot that does not decode).
func (g *Game) RestoreState(data []byte) (State, error) {
	shape, err := g.k.shape()
	if err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrSnapshotStale, err)
	}
	var r stateRecord
	if err := decodeStrict(data, &r); err != nil {
		return State{}, fmt.Errorf("%w: snapshot: %v", ErrCorruptLog, err)
	}
	switch {
	case r.Format != SnapshotFormat:
		return State{}, fmt.Errorf("%w: format %d, this build reads %d", ErrSnapshotStale, r.Format, SnapshotFormat)
	case r.Game != g.name:
		return State{}, fmt.Errorf("%w: a %q snapshot read as %q", ErrSnapshotStale, r.Game, g.name)
	case r.Shape != shape:
		return State{}, fmt.Errorf("%w: %s state shape %s, this build's is %s", ErrSnapshotStale, g.name, r.Shape, shape)
	case r.Seq == 0 || validPlayers(r.Players) != nil || len(r.Commitment) != 64:
		return State{}, fmt.Errorf("%w: snapshot: incomplete", ErrCorruptLog)
	}
	set, _, err := splitConfig(r.Config)
	if err != nil {
		return State{}, fmt.Errorf("%w: snapshot: %v", ErrCorruptLog, err)
	}
	rules, err := g.k.decodeState(r.Rules)
	if err != nil {
		return State{}, fmt.Errorf("%w: snapshot: %s state: %v", ErrCorruptLog, g.name, err)
	}
	s := State{
		seq: r.Seq, game: r.Game, players: r.Players, config: r.Config,
		commitment: r.Commitment, outcome: r.Outcome, seed: r.Seed,
		settings: set, rules: rules,
	}
	if t := r.Timer; t != nil {
		s.timer = timerState{turn: t.Turn, deadline: t.Deadline, toAct: t.ToAct, graces: t.Graces, timeouts: t.Timeouts}
	}
	return s, nil
}

func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err == nil {
		return errors.New("data after the value")
	}
	return nil
}

func (a *adapter[S, A]) decodeState(data []byte) (any, error) {
	var s S
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	return s, nil
}

// shape is the fingerprint of S's JSON shape, computed once.
func (a *adapter[S, A]) shape() (string, error) {
	a.shapeOnce.Do(func() { a.shapeOf, a.shapeErr = stateShape(reflect.TypeFor[S]()) })
	return a.shapeOf, a.shapeErr
}

// stateShape fingerprints t's JSON shape: the first 16 hex digits of the
// SHA-256 of its description. It fails for a type JSON cannot carry whole.
func stateShape(t reflect.Type) (string, error) {
	var b strings.Builder
	if err := describe(&b, t, map[reflect.Type]bool{}); err != nil {
		return "", fmt.Errorf("engine: state %s cannot be snapshotted: %w", t, err)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8]), nil
}

var (
	textMarshaler   = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

func describe(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) error {
	if t.Name() != "" {
		b.WriteString(t.PkgPath() + "." + t.Name() + ":")
		if seen[t] {
			return nil
		}
		seen[t] = true
	}
	marshals := t.Implements(jsonMarshaler) || t.Implements(textMarshaler)
	pt := reflect.PointerTo(t)
	unmarshals := pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
	if marshals != unmarshals {
		return fmt.Errorf("%s encodes its own JSON one way only", t)
	}
	if marshals {
		b.WriteString("custom;")
		return nil // its own encoding; the property tests check it round-trips
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		b.WriteString(t.Kind().String() + ";")
	case reflect.Pointer:
		b.WriteString("*")
		return describe(b, t.Elem(), seen)
	case reflect.Slice:
		b.WriteString("[]")
		return describe(b, t.Elem(), seen)
	case reflect.Array:
		b.WriteString("[" + strconv.Itoa(t.Len()) + "]")
		return describe(b, t.Elem(), seen)
	case reflect.Map:
		b.WriteString("map[")
		if err := describe(b, t.Key(), seen); err != nil {
			return err
		}
		b.WriteString("]")
		return describe(b, t.Elem(), seen)
	case reflect.Struct:
		b.WriteString("struct{")
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				return fmt.Errorf("field %s.%s is not in its JSON", t, f.Name)
			}
			b.WriteString(f.Name + " " + strconv.Quote(tag) + " ")
			if err := describe(b, f.Type, seen); err != nil {
				return err
			}
		}
		b.WriteString("}")
	default:
		return fmt.Errorf("%s is a %s", t, t.Kind())
	}
	return nil
}
