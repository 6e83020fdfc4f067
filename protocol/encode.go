package protocol

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Marshal encodes m exactly as json.Marshal does, byte for byte
// (TestMarshalIsJSONMarshal), without its reflection walk: every message a
// server sends goes through it, and json.Marshal of a Message was 6% of a
// busy server's CPU. Values of their own types (active games, an error, an
// outcome, a forced turn) are rare and go to json.Marshal.
func Marshal(m Message) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 512+len(m.Data)+len(m.State))}
	e.field("type", false)
	e.str(m.Type)
	e.field("message_id", true)
	e.str(m.MessageID)
	e.field("timestamp", true)
	e.time(m.Timestamp)
	e.optStr("request_message_id", m.RequestMessageID)
	e.optStr("game_id", m.GameID)
	e.optStr("user_id", m.UserID)
	if m.ActiveGames != nil {
		e.field("active_games", true)
		e.value(m.ActiveGames)
	}
	e.optStr("role", m.Role)
	e.optUint("head", m.Head)
	e.optUint("event_id", m.EventID)
	e.optStr("rules", m.Rules)
	if len(m.Players) > 0 {
		e.field("players", true)
		e.strs(m.Players)
	}
	e.optRaw("state", m.State)
	if m.Turn != nil {
		e.field("turn", true)
		e.strs(*m.Turn)
	}
	if m.Forced != nil {
		e.field("forced", true)
		e.value(m.Forced)
	}
	if m.Legal != nil {
		e.field("legal", true)
		if *m.Legal == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = append(e.buf, '[')
			for i, a := range *m.Legal {
				if i > 0 {
					e.buf = append(e.buf, ',')
				}
				e.raw(a)
			}
			e.buf = append(e.buf, ']')
		}
	}
	e.optStr("visibility", m.Visibility)
	e.optStr("event_type", m.EventType)
	if m.Version != 0 {
		e.field("version", true)
		e.buf = strconv.AppendInt(e.buf, int64(m.Version), 10)
	}
	e.optStr("actor", m.Actor)
	e.optRaw("data", m.Data)
	if m.RecordedAt != nil {
		e.field("recorded_at", true)
		e.time(*m.RecordedAt)
	}
	e.optBool("success", m.Success)
	if len(m.EventIDs) > 0 {
		e.field("event_ids", true)
		e.buf = append(e.buf, '[')
		for i, id := range m.EventIDs {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = strconv.AppendUint(e.buf, id, 10)
		}
		e.buf = append(e.buf, ']')
	}
	e.optBool("duplicate", m.Duplicate)
	if m.Error != nil {
		e.field("error", true)
		e.value(m.Error)
	}
	if m.Outcome != nil {
		e.field("outcome", true)
		e.value(m.Outcome)
	}
	e.optStr("player_id", m.PlayerID)
	e.optStr("status", m.Status)
	if m.Count != nil {
		e.field("count", true)
		e.buf = strconv.AppendInt(e.buf, int64(*m.Count), 10)
	}
	e.optUint("turn_number", m.TurnNumber)
	if m.Deadline != nil {
		e.field("deadline", true)
		e.time(*m.Deadline)
	}
	if m.RemainingSeconds != nil {
		e.field("remaining_seconds", true)
		e.buf = strconv.AppendInt(e.buf, int64(*m.RemainingSeconds), 10)
	}
	e.optBool("is_warning", m.IsWarning)
	if e.err != nil {
		return nil, e.err
	}
	return append(e.buf, '}'), nil
}

// encoder appends a message's fields; the first error sticks.
type encoder struct {
	buf []byte
	err error
}

// field starts a field: its key is plain ASCII.
func (e *encoder) field(key string, comma bool) {
	if comma {
		e.buf = append(e.buf, ',', '"')
	} else {
		e.buf = append(e.buf, '{', '"')
	}
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, '"', ':')
}

func (e *encoder) optStr(key, s string) {
	if s != "" {
		e.field(key, true)
		e.str(s)
	}
}

func (e *encoder) optUint(key string, v *uint64) {
	if v != nil {
		e.field(key, true)
		e.buf = strconv.AppendUint(e.buf, *v, 10)
	}
}

func (e *encoder) optBool(key string, v *bool) {
	if v != nil {
		e.field(key, true)
		e.buf = strconv.AppendBool(e.buf, *v)
	}
}

func (e *encoder) optRaw(key string, r json.RawMessage) {
	if len(r) > 0 {
		e.field(key, true)
		e.raw(r)
	}
}

// str appends s quoted. What json.Marshal would escape (quotes,
// backslashes, control characters, <, >, &, anything not ASCII: invalid
// UTF-8 and U+2028, U+2029 among it) sends the string to it.
func (e *encoder) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e.value(s)
			return
		}
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, '"')
}

func (e *encoder) strs(ss []string) {
	if ss == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '[')
	for i, s := range ss {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(s)
	}
	e.buf = append(e.buf, ']')
}

// raw appends r as json.Marshal does a json.RawMessage: checked, compacted
// and HTML-escaped; a nil one is null.
func (e *encoder) raw(r json.RawMessage) {
	if r == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	plain := true
	for _, c := range r {
		if c <= ' ' || c == '<' || c == '>' || c == '&' || c == 0xE2 {
			plain = false
			break
		}
	}
	if plain && json.Valid(r) {
		e.buf = append(e.buf, r...)
		return
	}
	e.value(r)
}

// time appends t as its MarshalJSON does (RFC 3339 with nanoseconds).
// Servers send UTC; anything else goes to MarshalJSON.
func (e *encoder) time(t time.Time) {
	if _, off := t.Zone(); off != 0 || t.Year() < 0 || t.Year() > 9999 {
		b, err := t.MarshalJSON()
		if err != nil && e.err == nil {
			e.err = err
		}
		e.buf = append(e.buf, b...)
		return
	}
	e.buf = append(e.buf, '"')
	e.buf = t.AppendFormat(e.buf, time.RFC3339Nano)
	e.buf = append(e.buf, '"')
}

// value appends v through json.Marshal.
func (e *encoder) value(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	e.buf = append(e.buf, b...)
}
