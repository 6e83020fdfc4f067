// Package enginetest is the conformance suite every game on the engine
// passes, and the helpers its rule tests are written with.
//
// Suite.Run plays thousands of random games with fixed seeds (random legal
// moves, occasional resignations, timeouts and abandonment, and rejected
// commands probed along the way) and checks, for each:
//
//   - the game ends within MaxCommands commands;
//   - rejected commands return one of the four rejections, no events, and
//     leave the state as it was;
//   - re-deciding every recorded command on the state folded from the JSON
//     log gives the recorded events byte for byte, and the same state;
//   - for every viewer (each player, a spectator, the auditor), folding the
//     events as rendered for that viewer gives exactly the viewer's View of
//     the state (all viewers at every seq in the first DetailedGames
//     games; a spectator and one player, at the end, in the others);
//   - no rendering for a non-auditor leaks a secret (the game's Secrets
//     check) and no rendering at all contains the seed before seed_revealed;
//   - Verify accepts the honest log and rejects it with ErrEventMismatch
//     after Tamper alters a random outcome, with ErrCommitmentMismatch after
//     the revealed seed is altered, and with ErrSeedNotRevealed when the log
//     is cut short.
//
// FuzzDecode and FuzzDecide are the bodies of every game's fuzz targets.
// Given, When and Then write rule tests as given events / when command /
// then events.
package enginetest
