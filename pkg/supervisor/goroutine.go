package supervisor

import (
	"fmt"
	"runtime/debug"
	"time"
)

// Go runs fn on a goroutine of the job. A panic in it is recovered and logged, and ends the
// job like a panic in Run: the supervisor then leaves the job's hardware safe. Jobs start
// their helper goroutines with Go, never with a bare `go`, so no bug of theirs can take the
// daemon down.
//
// Once Run has returned the supervisor cancels the job's ctx and waits for these goroutines
// before it finishes the job, so fn must return when that ctx ends. Go called after that
// runs nothing.
func (rt *Runtime) Go(fn func()) {
	rt.mu.Lock()
	if rt.joined {
		rt.mu.Unlock()
		rt.log.Warn("goroutine started after the job ended; not run")
		return
	}
	rt.helpers.Add(1)
	rt.mu.Unlock()
	go func() {
		defer rt.helpers.Done()
		defer func() {
			if p := recover(); p != nil {
				rt.log.Error("job goroutine panicked; stopping the job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				rt.stop()
			}
		}()
		fn()
	}()
}

// joinHelpers waits up to limit (wall time, as for a stop) for the goroutines started with
// Go. One that ignores the job's ctx is reported, not waited for forever.
func (rt *Runtime) joinHelpers(limit time.Duration) {
	rt.mu.Lock()
	rt.joined = true
	rt.mu.Unlock()
	done := make(chan struct{})
	go func() { rt.helpers.Wait(); close(done) }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		rt.log.Error("job goroutines did not end with the job; finishing it anyway")
	}
}
