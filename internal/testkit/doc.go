// Package testkit holds the harnesses that tests share, and nothing that a
// binary links: pgtest starts a throwaway PostgreSQL, testenv gives tests
// above the store both real backends, and Each runs a test's checks on a
// few goroutines. Production code lives beside it in internal/ (lru) and
// never imports it.
package testkit
