package par

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachRunsEveryCheckOnce(t *testing.T) {
	seen := make([]atomic.Int32, 100)
	if started, err := Each(context.Background(), len(seen), 8, func(i int) error { seen[i].Add(1); return nil }); err != nil || started != len(seen) {
		t.Fatalf("Each: %d started, %v", started, err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("check %d ran %d times", i, n)
		}
	}
	if _, err := Each(context.Background(), 0, 8, func(int) error { return errors.New("ran") }); err != nil {
		t.Fatalf("no checks: %v", err)
	}
}

func TestEachStopsAtTheFirstError(t *testing.T) {
	bad := errors.New("check 10 failed")
	var ran atomic.Int32
	_, err := Each(context.Background(), 1000, 2, func(i int) error {
		ran.Add(1)
		if i == 10 {
			return bad
		}
		time.Sleep(time.Millisecond) // a check that waits on a server
		return nil
	})
	if !errors.Is(err, bad) {
		t.Fatalf("Each: %v, want %v", err, bad)
	}
	if n := ran.Load(); n >= 500 {
		t.Fatalf("%d of 1000 checks ran: Each went on after the failure", n)
	}
}

func TestEachStopsWhenTheContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started, err := Each(ctx, 1000, 2, func(i int) error {
		if i == 10 {
			cancel()
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil || started >= 500 {
		t.Fatalf("Each after cancel: %d of 1000 started, %v", started, err)
	}
}
