package postgres

import (
	"container/list"
	"sync"

	"github.com/google/uuid"

	"github.com/playlog/playlog/eventstore"
)

// headCache remembers, per recently used game, the seq and hash of the last
// event this process saw. Events never change, so an entry is never wrong,
// only possibly behind; the database confirms it on every append.
type headCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	byID  map[uuid.UUID]*list.Element
}

type headEntry struct {
	game uuid.UUID
	seq  uint64
	hash eventstore.Hash
}

func newHeadCache(max int) *headCache {
	return &headCache{max: max, order: list.New(), byID: map[uuid.UUID]*list.Element{}}
}

// hashAt returns the cached hash of the game's event seq, if that is the
// cached head.
func (c *headCache) hashAt(game uuid.UUID, seq uint64) (eventstore.Hash, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[game]; ok {
		if e := el.Value.(*headEntry); e.seq == seq {
			c.order.MoveToFront(el)
			return e.hash, true
		}
	}
	return eventstore.Hash{}, false
}

// put records seq and hash as the game's head if it is newer.
func (c *headCache) put(game uuid.UUID, seq uint64, hash eventstore.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[game]; ok {
		if e := el.Value.(*headEntry); seq > e.seq {
			e.seq, e.hash = seq, hash
		}
		c.order.MoveToFront(el)
		return
	}
	c.byID[game] = c.order.PushFront(&headEntry{game: game, seq: seq, hash: hash})
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*headEntry)
		delete(c.byID, old.game)
	}
}
