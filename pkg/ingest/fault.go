package ingest

import (
	"log/slog"
	"sync"
	"time"
)

// Fault tracks one kind of failure that loses data (a store commit, a worker's spool
// write) for the unit's health and its log: the first failure is logged at once, later
// ones at most once per FaultLogEvery with how many went unlogged, and the recovery once.
// A Fault is safe for concurrent use.
type Fault struct {
	what string
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	state    FaultState
	failing  bool
	logged   time.Time // wall time of the last log line
	unlogged int64
}

// FaultLogEvery is the least wall time between two log lines of one Fault.
const FaultLogEvery = time.Minute

// FaultState is a failing Fault as health reports it.
type FaultState struct {
	What  string    // what fails: "database write", "outbox spool"
	Err   string    // the latest error
	Since time.Time // the first failure since it last worked
	Count int64     // failures since then
}

// NewFault returns a Fault named what; now times Since (nil: the wall clock).
func NewFault(what string, log *slog.Logger, now func() time.Time) *Fault {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Fault{what: what, log: log, now: now}
}

// Fail records a failure; attrs are logged with it.
func (f *Fault) Fail(err error, attrs ...any) {
	f.mu.Lock()
	if !f.failing {
		f.failing = true
		f.state = FaultState{What: f.what, Since: f.now()}
	}
	f.state.Err = err.Error()
	f.state.Count++
	wall := time.Now()
	if !f.logged.IsZero() && wall.Sub(f.logged) < FaultLogEvery {
		f.unlogged++
		f.mu.Unlock()
		return
	}
	f.logged = wall
	n := f.unlogged
	f.unlogged = 0
	f.mu.Unlock()
	args := append([]any{"err", err}, attrs...)
	if n > 0 {
		args = append(args, "failures_not_logged", n)
	}
	f.log.Error(f.what+" failed", args...)
}

// OK records a success: a failing Fault recovers.
func (f *Fault) OK() {
	f.mu.Lock()
	if !f.failing {
		f.mu.Unlock()
		return
	}
	st := f.state
	f.failing = false
	f.mu.Unlock()
	f.log.Info(f.what+" works again", "failures", st.Count, "since", st.Since)
}

// State returns the failure while the Fault is failing.
func (f *Fault) State() (FaultState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, f.failing
}
