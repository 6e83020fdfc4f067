package gateway

import (
	"testing"
	"time"
)

// TestPutSeesRoomMadeBeforeItWaits: a put that finds the queue full, while
// the writer empties it before the put has made its room channel, still
// queues at once instead of waiting out its timeout (which would cut a
// client that is not slow as a slow consumer).
func TestPutSeesRoomMadeBeforeItWaits(t *testing.T) {
	for i := 0; i < 20000; i++ {
		var q sendQueue
		q.init(1, func() {})
		q.tryPut([]byte("a"))
		taken := make(chan struct{})
		go func() { // the writer: takes what is queued
			defer close(taken)
			for {
				if _, ok := q.take(); ok {
					return
				}
			}
		}()
		queued, timedOut := q.put([]byte("b"), make(chan struct{}), time.Second)
		<-taken
		if !queued || timedOut {
			t.Fatalf("round %d: put queued %v, timed out %v, with room in the queue", i, queued, timedOut)
		}
	}
}
