package supervisor

import (
	"fmt"
	"runtime/debug"
)

// Go runs fn on a goroutine of the job. A panic in it is recovered and logged, and ends the
// job like a panic in Run: the supervisor then leaves the job's hardware safe. Jobs start
// their helper goroutines with Go, never with a bare `go`, so no bug of theirs can take the
// daemon down.
func (rt *Runtime) Go(fn func()) {
	go func() {
		defer func() {
			if p := recover(); p != nil {
				rt.log.Error("job goroutine panicked; stopping the job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				rt.stop()
			}
		}()
		fn()
	}()
}
