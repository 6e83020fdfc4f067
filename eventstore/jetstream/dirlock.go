package jetstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the file in an embedded server's directory that the process
// serving it holds locked.
const lockName = "playlog.lock"

// ErrDirInUse is Open's error for an embedded store's directory that
// another process serves: two embedded servers on one directory each take
// the other's files for theirs, and what one writes the other loses.
var ErrDirInUse = errors.New("jetstream: the directory is in use by another process (a running playlogd?): reach its log through that process's server instead (playlogd -nats-listen, then --nats-url)")

// lockDir takes dir's lock, creating dir if need be, or fails with
// ErrDirInUse if another process holds it. The lock goes with the
// returned file: close it once the embedded server has shut down (a
// process that dies releases it too).
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrDirInUse, dir)
		}
		return nil, fmt.Errorf("jetstream: lock %s: %w", dir, err)
	}
	return f, nil
}
