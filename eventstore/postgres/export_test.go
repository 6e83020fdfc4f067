package postgres

// CachedGames is how many games' indexes s holds in memory.
func CachedGames(s *Store) int { return s.games.Len() }
