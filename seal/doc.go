// Package seal signs and checks seals: the server's Ed25519 signature over
// a game's log up to one event (docs/eventlog.md, "Seals").
//
// The hash chain proves a log consistent, not complete or authentic:
// whoever can write the store can cut a game's tail or rewrite a whole game
// and recompute every hash. A seal is what they cannot make without the
// private key. When a game ends the server signs its final seq and hash
// (a final seal); while it runs, it signs checkpoints of its head every so
// many events or seconds. An auditor with the public key then proves, from
// a copy of the log anywhere, that an ended game is whole and unaltered,
// and that an active game was not cut behind its last checkpoint.
//
// Signer signs (Message is the exact signed bytes); Verifier checks
// signatures under one or more public keys, found by key id; Check audits
// a game's events against its seals; Sealer is the server side, told of
// every append by package play, which signs and stores seals as the
// configured policy says.
package seal
