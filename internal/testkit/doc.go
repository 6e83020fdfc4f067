// Package testkit holds the harnesses that tests share, and nothing that a
// binary links: pgtest starts a throwaway PostgreSQL, testenv gives tests
// above the store both real backends. Production code lives beside it in
// internal/ (lru, par) and never imports it.
package testkit
