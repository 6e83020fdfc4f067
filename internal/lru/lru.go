// Package lru is a bounded, least-recently-used map, safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, forgetting the least recently used beyond max.
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

// GetOrAdd returns the value for key, adding make() on a miss and evicting
// the least recently used entry if the cache is full. An evicted value stays
// valid for whoever holds it; the cache only forgets it.
func (c *Cache[K, V]) GetOrAdd(key K, make func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val
	}
	e := &entry[K, V]{key: key, val: make()}
	c.byKey[key] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*entry[K, V])
		delete(c.byKey, old.key)
	}
	return e.val
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
