package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/eventstore/storetest"
)

// backend runs stores on an embedded server in one directory; reopening
// restarts the server on the same files.
type backend struct{ dir string }

const testDedupeWindow = 300 * time.Millisecond

func (b backend) Open(t *testing.T, opts storetest.Options) eventstore.Store {
	t.Helper()
	s, err := jetstream.Open(context.Background(), jetstream.Config{
		Dir: b.dir, Listen: "127.0.0.1:0", Now: opts.Now, DuplicateWindow: testDedupeWindow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OpenPeer connects a second store to the first one's embedded server by
// URL, as another playlogd would.
func (b backend) OpenPeer(t *testing.T, first eventstore.Store, opts storetest.Options) eventstore.Store {
	t.Helper()
	s, err := jetstream.Open(context.Background(), jetstream.Config{
		URL: first.(*jetstream.Store).ClientURL(), Now: opts.Now, DuplicateWindow: testDedupeWindow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (b backend) DedupeWindow() time.Duration { return testDedupeWindow }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return backend{dir: t.TempDir()} })
}
