package jetstream

// StreamName is the name of the stream that holds the log, for tools that
// read its state (projections' rebuilds measure the log by it).
func (s *Store) StreamName() string { return s.cfg.Stream }
