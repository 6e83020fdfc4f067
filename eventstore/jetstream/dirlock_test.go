package jetstream

import (
	"context"
	"errors"
	"testing"
)

// Two embedded stores on one directory would each take the other's files
// for theirs (an import into a running node's directory reported success
// and was gone after a restart): the second is refused while the first is
// open, and opens once it has closed.
func TestOneProcessPerDirectory(t *testing.T) {
	dir := t.TempDir()
	first := openTest(t, Config{Dir: dir})
	if _, err := Open(context.Background(), Config{Dir: dir}); !errors.Is(err, ErrDirInUse) {
		t.Fatalf("a second store on the directory: %v, want ErrDirInUse", err)
	}
	first.Close()
	second := openTest(t, Config{Dir: dir})
	second.Close()
}
