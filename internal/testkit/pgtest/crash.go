package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartOwn starts a throwaway cluster of the test's own, whatever EnvURL
// says: for tests that crash and restart it (Kill, Restart), which must
// not touch a database other tests use.
func StartOwn() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "playlog-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	if err := c.start(bin); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Kill crashes the cluster as a power cut would the processes: SIGKILL to
// the postmaster and every backend (its process group), without shutdown.
// Committed transactions survive (the WAL is flushed at commit); Restart
// brings it back through crash recovery.
func (c *Cluster) Kill() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return errors.New("pgtest: Kill needs a cluster of its own (StartOwn)")
	}
	if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("pgtest: kill: %w", err)
	}
	c.cmd.Wait()
	return nil
}

// Restart starts the killed cluster again, on the same data and port (so
// URL is unchanged), and waits until it accepts connections (after crash
// recovery). Stop stops it as before.
func (c *Cluster) Restart() error {
	if c.cmd == nil {
		return errors.New("pgtest: Restart needs a cluster of its own (StartOwn)")
	}
	old := c.cmd
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.SysProcAttr, cmd.Stdout, cmd.Stderr = old.SysProcAttr, old.Stdout, old.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: restart postgres: %w", err)
	}
	c.cmd = cmd
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			return fmt.Errorf("pgtest: postgres not back after 60s: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
