package play

import "github.com/google/uuid"

// CachedGames is how many games s holds in memory.
func CachedGames(s *Service) int { return s.games.Len() }

// CachedEntry is s's cached entry of game id (as an opaque pointer, for
// identity checks), or nil.
func CachedEntry(s *Service, id uuid.UUID) any {
	if e, ok := s.games.Get(id); ok {
		return e
	}
	return nil
}
