// Package lru is a bounded, least-recently-used map, safe for concurrent use.
//
// Callers that cache what they look up elsewhere (a game's state, a game's
// index) should Get first and Add only once the lookup has succeeded, so
// that lookups of keys that do not exist never evict entries that do.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, forgetting the least recently used beyond max.
// An evicted value stays valid for whoever holds it; the cache only forgets
// it.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *entry[K, V], most recent first
	byKey map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a Cache of at most max entries.
func New[K comparable, V any](max int) *Cache[K, V] {
	return &Cache[K, V]{max: max, order: list.New(), byKey: map[K]*list.Element{}}
}

// Get returns the value for key and whether there is one, marking it the
// most recently used. A miss adds nothing.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add caches val for key unless key already has a value, evicting the least
// recently used entry if the cache is full. It returns the value now cached
// for key, and whether that is val: when two goroutines race to add one
// key, the first wins and the second gets the first's value back.
func (c *Cache[K, V]) Add(key K, val V) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, false
	}
	c.add(key, val)
	return val, true
}

// add stores a new key. The caller holds c.mu.
func (c *Cache[K, V]) add(key K, val V) {
	c.byKey[key] = c.order.PushFront(&entry[K, V]{key: key, val: val})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*entry[K, V])
		delete(c.byKey, old.key)
	}
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
