package eventstore

import (
	"testing"
	"time"
)

func TestPollWake(t *testing.T) {
	var w PollWake
	if w.Ready() {
		t.Fatal("Ready with no OnReady reported a Poll reader")
	}
	called := make(chan struct{}, 10)
	w.OnReady(func() { called <- struct{}{} })
	if !w.Ready() {
		t.Fatal("Ready after OnReady reported no Poll reader")
	}
	<-called
	fired := make(chan struct{}, 10)
	if !w.After(time.Hour, func() { fired <- struct{}{} }) {
		t.Fatal("After refused before Stop")
	}
	if !w.After(10*time.Millisecond, func() { fired <- struct{}{} }) { // replaces the hour
		t.Fatal("After refused before Stop")
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("the timer reset to 10ms did not fire")
	}
	w.After(20*time.Millisecond, func() { fired <- struct{}{} }) // pending at Stop
	w.Stop()
	select {
	case <-called:
	default:
		t.Fatal("Stop did not call the reader's function")
	}
	if w.After(time.Millisecond, func() { fired <- struct{}{} }) {
		t.Fatal("After set a timer after Stop")
	}
	time.Sleep(50 * time.Millisecond)
	if len(fired) != 0 {
		t.Fatal("a timer fired after Stop")
	}
}
