package archive_test

import (
	"context"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/playlog/playlog/archive"
	"github.com/playlog/playlog/eventstore/jetstream"
	"github.com/playlog/playlog/internal/testkit/jscluster"
	"github.com/playlog/playlog/projections/jsproj"
	"github.com/playlog/playlog/projections/open"
)

// A log that began on one replica and was scaled to three takes its
// archive (the only copy of archived games) and its history bucket with it.
func TestBucketsFollowTheLogsReplicas(t *testing.T) {
	c := jscluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	openAt := func(replicas int) *jetstream.Store {
		s, err := jetstream.Open(ctx, jetstream.Config{URL: c.URL(), Replicas: replicas})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archive.OpenBlobs(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := open.History(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	replicas := func(s *jetstream.Store, stream string) int {
		js, err := natsjs.New(s.Conn())
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().Config.Replicas
	}
	buckets := []string{"OBJ_" + archive.Bucket, "KV_" + jsproj.HistoryBucket}
	s1 := openAt(1)
	for _, b := range buckets {
		if n := replicas(s1, b); n != 1 {
			t.Fatalf("%s made for a log on one replica has %d", b, n)
		}
	}
	s1.Close()
	s3 := openAt(3)
	defer s3.Close()
	for _, b := range append(buckets, s3.StreamName()) {
		if n := replicas(s3, b); n != 3 {
			t.Fatalf("%s has %d replicas after the log was scaled to 3", b, n)
		}
	}
	// A node opened without the setting scales nothing down.
	s0 := openAt(0)
	defer s0.Close()
	for _, b := range append(buckets, s0.StreamName()) {
		if n := replicas(s0, b); n != 3 {
			t.Fatalf("%s has %d replicas after a node opened without the setting", b, n)
		}
	}
}
