package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/playlog/playlog/internal/jsonscan"
)

// Object is a strictly parsed JSON object, for decoding actions and configs
// by hand: keys are matched exactly (not case-insensitively), a key may
// appear once, nothing may follow the object, and Done reports any key the
// decoder did not ask for. All errors wrap ErrInvalidAction.
//
//	o, err := engine.ParseObject(data)
//	cell, err := o.Int("cell", 0, 8)
//	err = o.Done()
type Object struct {
	keys   []string
	values []json.RawMessage
	used   []bool

	// room for an action's few fields, so that parsing one allocates once
	inline  [4]string
	inlineV [4]json.RawMessage
	inlineU [4]bool
}

// ParseObject parses data, which must be exactly one JSON object.
func ParseObject(data []byte) (*Object, error) {
	if o := scanObject(data); o != nil {
		return o, nil
	}
	return parseObject(data)
}

// scanObject parses a valid JSON object with distinct keys in one pass,
// its values left as slices of data: the common case, and a move's hottest
// parse. For anything else it returns nil, and parseObject finds the error
// to report. The two agree on every object scanObject accepts
// (FuzzScanObject).
func scanObject(data []byte) *Object {
	o := &Object{}
	o.keys, o.values, o.used = o.inline[:0], o.inlineV[:0], o.inlineU[:0]
	ok := jsonscan.Members(data, func(k []byte, plain bool, v []byte) bool {
		var key string
		if plain {
			key = string(k)
		} else if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &key) != nil {
			return false
		}
		if o.Has(key) {
			return false
		}
		o.keys = append(o.keys, key)
		o.values = append(o.values, json.RawMessage(v))
		o.used = append(o.used, false)
		return true
	})
	if !ok {
		return nil
	}
	return o
}

// parseObject is ParseObject by json.Decoder: slower, and the one that
// says what is wrong with data.
func parseObject(data []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidAction)
	}
	o := &Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: malformed JSON: %v", ErrInvalidAction, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: malformed JSON", ErrInvalidAction)
		}
		for _, k := range o.keys {
			if k == key {
				return nil, fmt.Errorf("%w: duplicate field %q", ErrInvalidAction, key)
			}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", ErrInvalidAction, key, err)
		}
		o.keys = append(o.keys, key)
		o.values = append(o.values, raw)
		o.used = append(o.used, false)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("%w: malformed JSON", ErrInvalidAction)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidAction)
	}
	return o, nil
}

// DuplicateKey reports the first key that data, a JSON object, gives
// twice at its top level: encoding/json would keep the last of them, where
// another reader of the same bytes might take the first. It reports
// nothing for data that is no object; the caller's decoder words that.
func DuplicateKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return "", false
		}
		if seen[key] {
			return key, true
		}
		seen[key] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", false
}

// lookup returns key's raw value, without marking it read.
func (o *Object) lookup(key string) (json.RawMessage, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.values[i], true
		}
	}
	return nil, false
}

// Has reports whether the object has key.
func (o *Object) Has(key string) bool {
	for _, k := range o.keys {
		if k == key {
			return true
		}
	}
	return false
}

func (o *Object) take(key string) (json.RawMessage, error) {
	for i, k := range o.keys {
		if k == key {
			o.used[i] = true
			return o.values[i], nil
		}
	}
	return nil, fmt.Errorf("%w: missing field %q", ErrInvalidAction, key)
}

// String returns the required string field key.
func (o *Object) String(key string) (string, error) {
	raw, err := o.take(key)
	if err != nil {
		return "", err
	}
	if s, ok := jsonscan.PlainString(raw); ok {
		return s, nil
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%w: field %q must be a string", ErrInvalidAction, key)
	}
	return s, nil
}

// Int returns the required integer field key, which must lie in [min, max].
// Numbers with a fraction or exponent are rejected.
func (o *Object) Int(key string, min, max int) (int, error) {
	raw, err := o.take(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("%w: field %q must be an integer", ErrInvalidAction, key)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("%w: field %q is %d, want %d..%d", ErrInvalidAction, key, n, min, max)
	}
	return n, nil
}

// ParseAction parses an action: a JSON object with a string "type". It
// returns the object, for the action's other fields, and the type. Errors
// wrap ErrInvalidAction.
func ParseAction(data []byte) (*Object, string, error) {
	o, err := ParseObject(data)
	if err != nil {
		return nil, "", err
	}
	typ, err := o.Type()
	if err != nil {
		return nil, "", err
	}
	return o, typ, nil
}

// NoConfig accepts only an empty config object: the config of a game
// without options.
func NoConfig(config json.RawMessage) error {
	o, err := ParseObject(config)
	if err != nil {
		return err
	}
	return o.Done()
}

// Type returns the required string field "type".
func (o *Object) Type() (string, error) { return o.String("type") }

// Done returns an error naming the first field that was never read.
func (o *Object) Done() error {
	for i, k := range o.keys {
		if !o.used[i] {
			return fmt.Errorf("%w: unknown field %q", ErrInvalidAction, k)
		}
	}
	return nil
}
