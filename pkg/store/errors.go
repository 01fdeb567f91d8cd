package store

import "errors"

var (
	// ErrNotFound means the row asked for (experiment, worker, job) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a row with that key already exists (duplicate experiment name).
	ErrExists = errors.New("already exists")
	// ErrUnknownWorker means an operation referenced a unit that is not in the inventory.
	ErrUnknownWorker = errors.New("unknown worker")
	// ErrUnknownExperiment means an operation referenced an experiment that does not exist.
	ErrUnknownExperiment = errors.New("unknown experiment")
	// ErrNotAssigned means the worker is not assigned (to that experiment, or at all).
	ErrNotAssigned = errors.New("worker not assigned")
	// ErrEmptyName means a name (experiment, unit, setting) was empty; bbolt keys cannot be.
	ErrEmptyName = errors.New("empty name")
	// ErrLocked means another process holds the database file and did not release it in time.
	ErrLocked = errors.New("database is locked by another process")
	// ErrCorrupt means the file is not a readable bbolt database (garbage or damaged pages).
	ErrCorrupt = errors.New("database file is corrupt or not a bbolt database")
	// ErrForeign means the file is a bbolt database that pioreactord did not create.
	ErrForeign = errors.New("database was not created by pioreactord")
	// ErrSchemaTooNew means the file was written by a newer pioreactord; refuse rather than
	// risk misreading it.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary supports")
)
