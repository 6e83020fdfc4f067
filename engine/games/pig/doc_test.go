package pig_test

import (
	"os"
	"strings"
	"testing"
)

// The guide shows this package's code; keep them the same.
func TestTheGuideShowsThisCode(t *testing.T) {
	guide, err := os.ReadFile("../../../docs/writing-a-game.md")
	if err != nil {
		t.Fatalf("the guide must stand beside this package: %v", err)
	}
	for _, file := range []string{"pig.go", "pig_test.go"} {
		code, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(guide), string(code)) {
			t.Errorf("docs/writing-a-game.md does not contain %s as it is; update the guide", file)
		}
	}
}
