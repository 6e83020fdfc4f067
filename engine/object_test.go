package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestParseObjectIsStrict(t *testing.T) {
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"an object with the asked fields", `{"type":"t","n":3}`, true},
		{"whitespace around it", " \n{\"type\" : \"t\", \"n\" : 3}\t", true},
		{"not an object", `[1]`, false},
		{"a string", `"x"`, false},
		{"null", `null`, false},
		{"empty", ``, false},
		{"truncated", `{"type":"t"`, false},
		{"trailing data", `{"type":"t","n":3} {}`, false},
		{"trailing garbage", `{"type":"t","n":3}x`, false},
		{"a duplicate field", `{"type":"t","n":3,"n":4}`, false},
		{"an unknown field", `{"type":"t","n":3,"m":1}`, false},
		{"a field in another case", `{"Type":"t","n":3}`, false},
		{"a missing field", `{"type":"t"}`, false},
		{"a string where a number is due", `{"type":"t","n":"3"}`, false},
		{"a fraction", `{"type":"t","n":3.0}`, false},
		{"an exponent", `{"type":"t","n":3e0}`, false},
		{"out of range", `{"type":"t","n":11}`, false},
		{"a huge number", `{"type":"t","n":100000000000000000000000}`, false},
		{"a number where a string is due", `{"type":1,"n":3}`, false},
		{"null for a string", `{"type":null,"n":3}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parseTN([]byte(tt.data))
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidAction) {
				t.Fatalf("got %v, want ErrInvalidAction", err)
			}
		})
	}
}

func parseTN(data []byte) error {
	o, err := ParseObject(data)
	if err != nil {
		return err
	}
	if _, err := o.Type(); err != nil {
		return err
	}
	if _, err := o.Int("n", 0, 10); err != nil {
		return err
	}
	return o.Done()
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"type":"t","n":3}`, `{"a":[1,{"b":2}],"c":"\u00e9"}`, `{"type":"t","type":"u"}`, `{`, `{"n":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := parseTN(data); err != nil && !errors.Is(err, ErrInvalidAction) {
			t.Fatalf("error %v does not wrap ErrInvalidAction", err)
		}
	})
}

// FuzzScanObject checks the fast scan against json.Decoder's parse: on
// every input the scan accepts, the same keys in the same order with the
// same values.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{
		`{"type":"t","n":3}`, ` {"a" : [1, {"b":[2,"]"]}] , "c":"\u00e9\"}"}`, `{}`, `{"type":"t","type":"u"}`,
		`{"\u0074ype":"t"}`, `{"é":1,"e":true,"f":null,"g":-1.5e3}`, `[1]`, `{"a":1}x`, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast := scanObject(data)
		slow, err := parseObject(data)
		if fast == nil {
			if err == nil && !hasDuplicate(slow) && json.Valid(data) {
				t.Fatalf("scan refused %q, which the decoder parses", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("scan accepted %q, which the decoder refuses: %v", data, err)
		}
		if !slices.Equal(fast.keys, slow.keys) || len(fast.values) != len(slow.values) {
			t.Fatalf("%q: keys %q, want %q", data, fast.keys, slow.keys)
		}
		for i := range fast.values {
			if !bytes.Equal(fast.values[i], slow.values[i]) {
				t.Fatalf("%q: %s is %s, want %s", data, fast.keys[i], fast.values[i], slow.values[i])
			}
		}
	})
}

func hasDuplicate(o *Object) bool {
	for i, k := range o.keys {
		if slices.Contains(o.keys[:i], k) {
			return true
		}
	}
	return false
}

func BenchmarkParseAction(b *testing.B) {
	data := []byte(`{"type":"place","cell":4}`)
	for b.Loop() {
		if _, _, err := ParseAction(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanActionTaken checks the action record's fast decode against
// json.Unmarshal: whatever the scan takes, json decodes the same way.
func FuzzScanActionTaken(f *testing.F) {
	for _, s := range []string{`{"actor":"alice","action":{"type":"place","cell":4}}`, `{"action":{},"actor":"b"}`,
		`{"actor":"a","action":{"type":"x"},"at":"2026-01-01T00:00:00Z"}`, `{"Actor":"a","action":{}}`, `{"actor":"a","actor":"b","action":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := scanActionTaken(data)
		if !ok {
			return
		}
		var want ActionTaken
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("scan took %q, which json refuses: %v", data, err)
		}
		if got.Actor != want.Actor || !bytes.Equal(got.Action, want.Action) || got.At != nil || want.At != nil {
			t.Fatalf("%q: scan %+v, json %+v", data, got, want)
		}
	})
}
