//go:build !race

package middleware_test

// raceEnabled says whether the race detector is on; sync.Pool then drops
// items at random, so allocation counts are meaningless.
const raceEnabled = false
