package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

type member struct {
	key   string
	plain bool
	value string
}

func scan(data string) ([]member, bool) {
	var ms []member
	ok := Members([]byte(data), func(k []byte, plain bool, v []byte) bool {
		ms = append(ms, member{string(k), plain, string(v)})
		return true
	})
	return ms, ok
}

func TestMembers(t *testing.T) {
	tests := []struct {
		data string
		want []member // nil: refused
	}{
		{`{}`, []member{}},
		{` { "a" : 1 , "b":[1, {"c":"]}"}] ,"d" :null}` + "\n", []member{{"a", true, "1"}, {"b", true, `[1, {"c":"]}"}]`}, {"d", true, "null"}}},
		{`{"\u0061":"x\"y","é":{}}`, []member{{`\u0061`, false, `"x\"y"`}, {"é", false, "{}"}}},
		{`{"a":-1.5e+3,"b":true,"c":false,"d":"\\"}`, []member{{"a", true, "-1.5e+3"}, {"b", true, "true"}, {"c", true, "false"}, {"d", true, `"\\"`}}},
		{`[1]`, nil},
		{`"x"`, nil},
		{``, nil},
		{`{"a":1`, nil},
		{`{"a":1}x`, nil},
		{`{"a":1} {}`, nil},
		{`{"a":01}`, nil},
		{"{\"a\":\"\x01\"}", nil},
	}
	for _, tt := range tests {
		got, ok := scan(tt.data)
		if ok != (tt.want != nil) || ok && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Members(%q) = %v, %v; want %v", tt.data, got, ok, tt.want)
		}
	}
	n := 0
	if Members([]byte(`{"a":1,"b":2,"c":3}`), func([]byte, bool, []byte) bool { n++; return n < 2 }) || n != 2 {
		t.Errorf("Members went on after fn returned false: %d calls", n)
	}
}

func TestPlainString(t *testing.T) {
	for raw, want := range map[string]bool{`"abc"`: true, `""`: true, `"a\"b"`: false, `"é"`: false, `"a`: false, `a"`: false, `1`: false, `"`: false} {
		s, ok := PlainString([]byte(raw))
		if ok != want || ok && `"`+s+`"` != raw {
			t.Errorf("PlainString(%s) = %q, %v; want %v", raw, s, ok, want)
		}
	}
}

// FuzzMembers checks the scan against json.Decoder's tokens: the scan takes
// exactly the inputs that are one valid JSON object, and finds the same
// keys and values.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{"type":"t","n":3}`, ` {"a" : [1, {"b":[2,"]"]}] , "c":"\u00e9\"}"}`, `{}`, `[1]`, `{"a":1}x`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := scan(string(data))
		want, wantOK := decode(data)
		if ok != wantOK {
			t.Fatalf("Members(%q) ok = %v, decoder %v", data, ok, wantOK)
		}
		if !ok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, decoder %d", data, len(got), len(want))
		}
		for i, m := range got {
			var key string
			if err := json.Unmarshal([]byte(`"`+m.key+`"`), &key); err != nil || key != want[i].key || m.plain && key != m.key {
				t.Fatalf("%q: key %q (plain %v), decoder %q", data, m.key, m.plain, want[i].key)
			}
			if m.value != want[i].value {
				t.Fatalf("%q: value %s, decoder %s", data, m.value, want[i].value)
			}
		}
	})
}

func decode(data []byte) ([]member, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var ms []member
	for dec.More() {
		tok, _ := dec.Token()
		var raw json.RawMessage
		dec.Decode(&raw)
		ms = append(ms, member{key: tok.(string), value: string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return ms, true
}
