// Package crashtest holds the crash-safety harness (crash_test.go): it runs
// the real `tearline serve` binary as a child process, kills it with
// SIGKILL at random moments while clients publish and read, restarts it on
// the same data (SQLite in the data directory, or a PostgreSQL database),
// and after every cycle has run checks from the outside that
//
//   - every object version the server acknowledged (publish answered 200
//     with it landed) is stored exactly once, with its binding and readable
//     content;
//   - `tearline audit verify` passes: the Merkle log, its tree hashes and
//     every signed checkpoint (signed every 100 ms during the run, so kills
//     land in checkpoint writes too) are intact;
//   - the audit log holds an object.ingest entry for every acknowledged
//     version and an object.read entry for every acknowledged read;
//   - nothing is half there: no stored version without its "created" audit
//     entry, no such entry without its version, no version we never sent.
//
// The work is organised as phases (type phase): ingest and reads.
// Federation delivery has its own test (federation_test.go): two nodes run
// as separate processes over mutual TLS, the partner and once the sender
// are killed while releases continue, and afterwards every released object
// is at the partner exactly once and a recall is acknowledged. See
// docs/CRASHTEST.md.
//
// The package has no code outside its tests.
package crashtest
