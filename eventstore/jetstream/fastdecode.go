package jetstream

import (
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/google/uuid"
)

// parseCanonical reads a payload laid out exactly as encodeMessage writes
// it: keys in its order, no white space, plain strings. It reports false
// for anything else, and decodeMessage then reads the payload with
// encoding/json, which accepts and refuses what it always did. So this is
// a fast path only: every message playlog writes takes it, at a fraction
// of encoding/json's cost (reflection, a decoder per message), and it
// never accepts what encoding/json would refuse. Data is a sub-slice of
// payload, capped so that appending to it cannot write into payload.
func parseCanonical(game uuid.UUID, payload []byte) (wireMessage, bool) {
	p := parser{b: payload}
	var gameText [36]byte
	hex.Encode(gameText[:], game[:4]) // cheaper than game.String() and equal to it
	hex.Encode(gameText[9:], game[4:6])
	hex.Encode(gameText[14:], game[6:8])
	hex.Encode(gameText[19:], game[8:10])
	hex.Encode(gameText[24:], game[10:])
	gameText[8], gameText[13], gameText[18], gameText[23] = '-', '-', '-', '-'
	if !p.lit(`{"v":1,"game":"`) || !p.lit(string(gameText[:])) || !p.lit(`","events":[`) {
		return wireMessage{}, false
	}
	m := wireMessage{V: 1, Game: game}
	for {
		var w wireEvent
		var ok bool
		if !p.lit(`{"seq":`) {
			return wireMessage{}, false
		}
		if w.Seq, ok = p.uint(); !ok || !p.lit(`,"type":`) {
			return wireMessage{}, false
		}
		if w.Type, ok = p.str(); !ok || !p.lit(`,"sv":`) {
			return wireMessage{}, false
		}
		sv, ok := p.uint()
		if !ok || sv > 1<<31-1 || !p.lit(`,"actor":`) {
			return wireMessage{}, false
		}
		w.SV = int(sv)
		if w.Actor, ok = p.str(); !ok {
			return wireMessage{}, false
		}
		if p.lit(`,"mid":`) {
			if w.MsgID, ok = p.str(); !ok {
				return wireMessage{}, false
			}
		}
		if !p.lit(`,"at":`) {
			return wireMessage{}, false
		}
		if w.At, ok = p.int(); !ok || !p.lit(`,"prev":"`) || !p.hash(w.Prev[:]) ||
			!p.lit(`","hash":"`) || !p.hash(w.Hash[:]) || !p.lit(`","data":`) {
			return wireMessage{}, false
		}
		if w.Data, ok = p.value(); !ok || !p.lit(`}`) {
			return wireMessage{}, false
		}
		m.Events = append(m.Events, w)
		if p.lit(`]}`) {
			return m, p.i == len(p.b)
		}
		if !p.lit(`,`) {
			return wireMessage{}, false
		}
	}
}

// parser walks a canonical payload; every method reports false rather
// than guess.
type parser struct {
	b []byte
	i int
}

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// digits takes a JSON integer's digits: no leading zero, at most 19.
func (p *parser) digits() (string, bool) {
	j := p.i
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	d := string(p.b[p.i:j])
	if d == "" || len(d) > 19 || (d[0] == '0' && len(d) > 1) {
		return "", false
	}
	p.i = j
	return d, true
}

func (p *parser) uint() (uint64, bool) {
	d, ok := p.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(d, 10, 64)
	return n, err == nil
}

func (p *parser) int() (int64, bool) {
	neg := p.lit(`-`)
	d, ok := p.digits()
	if !ok {
		return 0, false
	}
	if neg {
		d = "-" + d
	}
	n, err := strconv.ParseInt(d, 10, 64)
	return n, err == nil
}

// str takes a string of printable ASCII without escapes: what
// encodeMessage writes as is. Anything else is left to encoding/json.
func (p *parser) str() (string, bool) {
	if !p.lit(`"`) {
		return "", false
	}
	j := p.i
	for ; j < len(p.b) && p.b[j] != '"'; j++ {
		if c := p.b[j]; c < 0x20 || c >= 0x7f || c == '\\' {
			return "", false
		}
	}
	if j == len(p.b) {
		return "", false
	}
	s := string(p.b[p.i:j])
	p.i = j + 1
	return s, true
}

func (p *parser) hash(h []byte) bool {
	n := 2 * len(h)
	if len(p.b)-p.i < n {
		return false
	}
	if _, err := hex.Decode(h, p.b[p.i:p.i+n]); err != nil {
		return false
	}
	p.i += n
	return true
}

// value takes one JSON value: it finds the value's end by its brackets and
// strings, then has encoding/json's validator check what it found.
func (p *parser) value() (json.RawMessage, bool) {
	j, depth := p.i, 0
scan:
	for ; j < len(p.b); j++ {
		switch p.b[j] {
		case '"':
			for j++; j < len(p.b) && p.b[j] != '"'; j++ {
				if p.b[j] == '\\' {
					j++
				}
			}
			if j >= len(p.b) {
				return nil, false
			}
			if depth == 0 {
				j++
				break scan
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				break scan
			}
			depth--
			if depth == 0 {
				j++
				break scan
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				break scan
			}
		}
	}
	v := p.b[p.i:j:j]
	if len(v) == 0 || !json.Valid(v) {
		return nil, false
	}
	p.i = j
	return json.RawMessage(v), true
}
