package userid

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for id, ok := range map[string]bool{
		"alice": true, "Zoë": true, "a b": true, strings.Repeat("x", MaxLen): true,
		"": false, strings.Repeat("x", MaxLen+1): false, "b/ob": false, "bob\u00a0": false,
		"tab\t": false, "\xff": false, "new\nline": false,
	} {
		if err := Check(id); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", id, err, ok)
		}
	}
}
