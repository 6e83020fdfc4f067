package lru

import "testing"

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int, *int](2)
	made := 0
	mk := func() *int { made++; v := made; return &v }
	one := c.GetOrAdd(1, mk)
	c.GetOrAdd(2, mk)
	if c.GetOrAdd(1, mk) != one { // a hit, and 1 is now the most recent
		t.Fatal("a hit made a new value")
	}
	c.GetOrAdd(3, mk) // evicts 2
	if c.Len() != 2 || made != 3 {
		t.Fatalf("len %d, made %d", c.Len(), made)
	}
	if c.GetOrAdd(1, mk) != one {
		t.Fatal("1 was evicted instead of 2")
	}
	c.GetOrAdd(2, mk)
	if made != 4 {
		t.Fatal("2 was not evicted")
	}
}
