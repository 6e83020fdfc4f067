package jscluster

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// A port handed out is reserved: neither this process nor another may
// reserve it again while this one lives.
func TestReservedPortIsNotHandedOutAgain(t *testing.T) {
	name := filepath.Join(t.TempDir(), "port")
	if !reserve(name) {
		t.Fatal("a fresh port's file could not be reserved")
	}
	if reserve(name) {
		t.Fatal("this process reserved the same port twice")
	}
	// Another process: flock(1) fails at once (-n) on a held lock.
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Fatal("flock(1) is missing: install Debian's util-linux package")
	}
	if err := exec.Command(flock, "-n", name, "true").Run(); err == nil {
		t.Fatal("another process took the lock of a reserved port")
	}
	if err := exec.Command(flock, "-n", filepath.Join(t.TempDir(), "other"), "true").Run(); err != nil {
		t.Fatalf("flock(1) could not take a free lock: %v", err)
	}
}
