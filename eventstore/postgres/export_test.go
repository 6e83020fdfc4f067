package postgres

import (
	"context"
	"time"
)

// CachedGames is how many games' indexes s holds in memory.
func CachedGames(s *Store) int { return s.games.Len() }

// Reads is how many times s has read a game's events, and the feed.
func Reads(s *Store) (game, feed int64) { return s.gameReads.Load(), s.feedReads.Load() }

// SummarizeFeedIndex summarizes the feed index's complete block ranges
// from block *next, as the store does while its feed is read.
func SummarizeFeedIndex(ctx context.Context, s *Store, next *int64) (int64, error) {
	var analyzed time.Time
	return s.feed.summarizeFrom(ctx, next, &analyzed)
}

// SetFeedQueried makes fn run after each feed query, before its page is
// kept. Call it before any feed is read.
func SetFeedQueried(s *Store, fn func()) { s.feed.queried = fn }

// KeptPage is how many events the feed's kept page holds.
func KeptPage(s *Store) int {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return len(s.feed.page.events)
}
