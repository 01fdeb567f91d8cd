package api

import "errors"

// Sentinels a Unit implementation wraps (fmt.Errorf("...: %w", api.ErrUnknownJob)) so the
// routes can tell these cases from other failures.
var (
	// ErrUnknownJob: Run was asked for a job name the unit does not have.
	ErrUnknownJob = errors.New("unknown job")
	// ErrAlreadyRunning: Run was asked for a job that already runs on the unit.
	ErrAlreadyRunning = errors.New("job already running")
	// ErrNoSuchJob: Settings was asked for a job that is not running.
	ErrNoSuchJob = errors.New("no such running job")
)
