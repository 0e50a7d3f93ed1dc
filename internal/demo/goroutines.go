package demo

import (
	"fmt"
	"runtime"
	"time"
)

// WaitGoroutines waits up to timeout for the number of goroutines to fall
// to limit or below, and returns an error with every goroutine's stack if
// it does not. The demos' tests call it after a run with the number counted
// before, to check that the run stopped every goroutine it started.
func WaitGoroutines(limit int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for runtime.NumGoroutine() > limit && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > limit {
		buf := make([]byte, 1<<16)
		return fmt.Errorf("%d goroutines, want at most %d:\n%s", n, limit, buf[:runtime.Stack(buf, true)])
	}
	return nil
}
