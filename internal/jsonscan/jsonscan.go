// Package jsonscan walks the members of a JSON object in one pass over its
// bytes, without reflection and without copying values: the fast path of
// the strict, hand-written decoders on a move's path (engine.ParseObject,
// protocol.ParseRequest). Each keeps encoding/json as its slow path, for
// what the scan does not take and to say what is wrong with bad input.
package jsonscan

import "encoding/json"

// Members calls fn for each member of the JSON object data, in order, with
// the key's bytes between its quotes, whether those bytes are the key itself
// (no escape, nothing but ASCII), and the value's bytes, which are valid
// JSON. It returns false, having called fn for nothing, if data is not
// exactly one valid JSON object; and false as soon as fn does.
func Members(data []byte, fn func(key []byte, plain bool, value []byte) bool) bool {
	if !json.Valid(data) {
		return false
	}
	i := skipSpace(data, 0)
	if data[i] != '{' { // valid JSON is not empty
		return false
	}
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return true
	}
	for {
		end, plain := skipString(data, i) // valid JSON: a key is due
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		end = skipValue(data, i)
		if !fn(key, plain, data[i:end:end]) {
			return false
		}
		i = skipSpace(data, end)
		if data[i] == '}' {
			return true
		}
		i = skipSpace(data, i+1) // the comma
	}
}

// PlainString returns the string that the JSON value raw holds, if raw is a
// string of ASCII without escapes.
func PlainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	if raw[len(raw)-1] != '"' {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the valid JSON string at data[i], and
// whether its bytes are the string itself.
func skipString(data []byte, i int) (end int, plain bool) {
	plain = true
	for i++; ; i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain
		case c == '\\':
			plain = false
			i++ // an escape's first byte is not a quote that ends the string
		case c >= 0x80:
			plain = false
		}
	}
}

// skipValue returns the end of the valid JSON value at data[i].
func skipValue(data []byte, i int) int {
	depth := 0
	for {
		switch data[i] {
		case '"':
			i, _ = skipString(data, i)
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		default:
			for i < len(data) && !endsLiteral(data[i]) {
				i++
			}
		}
		if depth == 0 {
			return i
		}
		i = skipSpace(data, i)
		if data[i] == ',' || data[i] == ':' {
			i = skipSpace(data, i+1)
		}
	}
}

// endsLiteral reports whether c can follow a number, true, false or null.
func endsLiteral(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
