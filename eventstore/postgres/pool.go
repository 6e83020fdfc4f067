package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool is the store's connection pool, whose connections use the store's
// schema as their search_path: for read models kept in the same database
// (package projections/pgproj). Do not close it; Close closes it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
