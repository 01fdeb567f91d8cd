package task

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// Status is a task's state as the polling route reports it.
type Status string

const (
	Pending   Status = "pending"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// DefaultKeep is the number of finished outcomes kept when New is given 0.
const DefaultKeep = 10000

// Failure is a task error carrying the envelope fields of docs/http.md, "Error envelope"; a task
// returning one controls its cause and remediation. Any other error becomes a Failure
// whose message is the error text.
type Failure struct {
	Message     string
	Cause       string
	Remediation string
}

func (f *Failure) Error() string { return f.Message }

// Outcome is what polling an id returns. Result is set when Succeeded (and may be nil),
// Failure when Failed.
type Outcome struct {
	Status  Status
	Result  any
	Failure Failure
}

// Func is the work of one task. ctx ends when the registry closes.
type Func func(ctx context.Context) (any, error)

// Registry runs tasks and remembers their outcomes. Safe for concurrent use.
type Registry struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	keep   int

	mu       sync.Mutex
	closed   bool
	outcomes map[string]Outcome
	finished []string // ids in completion order, for eviction
}

// New returns a Registry keeping at most keep finished outcomes (0 means DefaultKeep).
func New(keep int) *Registry {
	if keep <= 0 {
		keep = DefaultKeep
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{ctx: ctx, cancel: cancel, keep: keep, outcomes: map[string]Outcome{}}
}

// Submit starts fn in the background and returns its id at once.
func (r *Registry) Submit(fn Func) string {
	id := newID()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.finishLocked(id, Outcome{Status: Failed, Failure: Failure{
			Message: "The server is shutting down.", Cause: "The task was refused during shutdown.",
			Remediation: "Retry once the unit is back."}})
		return id
	}
	r.wg.Go(func() {
		res, err := run(r.ctx, fn)
		o := Outcome{Status: Succeeded, Result: res}
		if err != nil {
			o = Outcome{Status: Failed, Failure: toFailure(err)}
		}
		r.mu.Lock()
		r.finishLocked(id, o)
		r.mu.Unlock()
	})
	return id
}

// Lookup returns the outcome of id; running, unknown and evicted ids are Pending.
func (r *Registry) Lookup(id string) Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.outcomes[id]; ok {
		return o
	}
	return Outcome{Status: Pending}
}

// Close cancels every running task and waits for them to return. Later Submits fail at once.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

func (r *Registry) finishLocked(id string, o Outcome) {
	r.outcomes[id] = o
	r.finished = append(r.finished, id)
	for len(r.finished) > r.keep {
		delete(r.outcomes, r.finished[0])
		r.finished = r.finished[1:]
	}
}

// run calls fn, turning a panic into an error: one bad task must not take the daemon down.
func run(ctx context.Context, fn Func) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("task panicked: %v", p)
		}
	}()
	return fn(ctx)
}

// pyError matches the Python repr of an exception, SomeError("text"), which a failure
// message coming from the original software may still carry (docs/http.md, "Tasks").
var pyError = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*\((?:"(.*)"|'(.*)')\)$`)

func toFailure(err error) Failure {
	var f *Failure
	if errors.As(err, &f) {
		out := *f
		if out.Cause == "" {
			out.Cause = out.Message
		}
		return out
	}
	msg := err.Error()
	if m := pyError.FindStringSubmatch(msg); m != nil {
		msg = m[1] + m[2]
	}
	return Failure{Message: msg, Cause: msg}
}

// newID is a random UUID (version 4), the form of the original's task ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
