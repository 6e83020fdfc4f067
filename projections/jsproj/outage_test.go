package jsproj_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/projections/projtest"
)

// TestServerRestartedUnderLoad: the embedded NATS server is shut down and
// started again on its files and port while games are played by another
// process's store, whose connection drops and reconnects: the directory
// and the history on that store resume by themselves, nothing skipped,
// nothing twice.
func TestServerRestartedUnderLoad(t *testing.T) {
	dir := t.TempDir()
	server, err := jetstream.Open(context.Background(), jetstream.Config{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	url := server.ClientURL()
	defer func() { server.Close() }()
	s, err := jetstream.Open(context.Background(), jetstream.Config{URL: url, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	projtest.Outage(t, s, newModel(t, s), func(t *testing.T) {
		server.Close()
		time.Sleep(300 * time.Millisecond)
		var err error
		server, err = jetstream.Open(context.Background(), jetstream.Config{Dir: dir, Listen: strings.TrimPrefix(url, "nats://")})
		if err != nil {
			t.Fatal(err)
		}
	})
}
