package jetstream

// StreamName is the name of the stream that holds the log, for tools that
// read its state (projections' rebuilds measure the log by it).
func (s *Store) StreamName() string { return s.cfg.Stream }

// SubjectPrefix is the prefix of the game subjects ("<prefix>.<game>"),
// for tools that read the stream itself.
func (s *Store) SubjectPrefix() string { return s.cfg.SubjectPrefix }
