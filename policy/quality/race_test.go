//go:build race

package quality

// raceEnabled: the documentation scan is left to make quality, which runs
// without the race detector (it reads a few hundred MB).
const raceEnabled = true
