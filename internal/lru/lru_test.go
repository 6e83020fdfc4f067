package lru

import "testing"

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int, int](2)
	c.Add(1, 1)
	c.Add(2, 2)
	if v, ok := c.Get(1); !ok || v != 1 { // a hit, and 1 is now the most recent
		t.Fatal("1 not found")
	}
	c.Add(3, 3) // evicts 2
	if c.Len() != 2 {
		t.Fatalf("len %d", c.Len())
	}
	if _, ok := c.Get(1); !ok {
		t.Fatal("1 was evicted instead of 2")
	}
	if _, ok := c.Get(2); ok {
		t.Fatal("2 was not evicted")
	}
}

func TestGetMissAddsNothing(t *testing.T) {
	c := New[int, string](2)
	c.Add(1, "one")
	c.Add(2, "two")
	for k := 3; k < 100; k++ {
		if _, ok := c.Get(k); ok {
			t.Fatalf("Get(%d) found a value never added", k)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("len %d after misses", c.Len())
	}
	if v, ok := c.Get(1); !ok || v != "one" {
		t.Fatalf("Get(1) = %q, %v: misses evicted a real entry", v, ok)
	}
}

func TestAddKeepsTheFirstValue(t *testing.T) {
	c := New[int, *int](2)
	first, second := new(int), new(int)
	if got, added := c.Add(1, first); got != first || !added {
		t.Fatalf("first Add: %p, %v", got, added)
	}
	if got, added := c.Add(1, second); got != first || added {
		t.Fatalf("second Add returned %p (added %v), want the first value %p", got, added, first)
	}
	if got, _ := c.Get(1); got != first {
		t.Fatal("the second Add replaced the first value")
	}
	// Add marks a present key used: 2 is the one evicted by 3.
	c.Add(2, new(int))
	c.Add(1, second)
	c.Add(3, new(int))
	if _, ok := c.Get(2); ok {
		t.Fatal("2 was not evicted")
	}
	if _, ok := c.Get(1); !ok {
		t.Fatal("1 was evicted though most recently added to")
	}
}

func TestRacingAddsAgreeOnOneValue(t *testing.T) {
	c := New[int, *int](4)
	const n = 8
	got := make(chan *int, n)
	for i := 0; i < n; i++ {
		go func() {
			v, _ := c.Add(7, new(int))
			got <- v
		}()
	}
	first := <-got
	for i := 1; i < n; i++ {
		if v := <-got; v != first {
			t.Fatal("racing Adds of one key returned different values")
		}
	}
	if c.Len() != 1 {
		t.Fatalf("len %d", c.Len())
	}
}
