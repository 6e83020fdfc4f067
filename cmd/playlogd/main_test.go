package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunOpensEmbeddedLogAndStops starts playlogd as `make run` does and
// stops it as Ctrl-C would.
func TestRunOpensEmbeddedLogAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() { done <- run(ctx, []string{"-data", dir}, &out, &errOut) }()
	time.Sleep(500 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("playlogd did not stop within 30s of its context ending")
	}
	if !strings.Contains(out.String(), "embedded JetStream in "+dir) {
		t.Fatalf("output does not say where the log is:\n%s", out.String())
	}
}

func TestBadFlagsAreErrors(t *testing.T) {
	for _, args := range [][]string{{"-no-such-flag"}, {"extra"}, {"-durability", "sometimes", "-data", t.TempDir()}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Fatalf("playlogd %q started", args)
		}
	}
}
