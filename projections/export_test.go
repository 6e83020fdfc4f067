package projections

// NewSharedRing is NewShared with a ring of size events, so that tests can
// fall behind it with few.
var NewSharedRing = newShared
