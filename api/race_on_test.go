//go:build race

package api_test

// raceEnabled is true under the race detector, which makes the heaviest
// tests slow enough to shrink.
const raceEnabled = true
