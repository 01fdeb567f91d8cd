package store

import (
	"sync"
	"time"
)

// WriteFailure is a store whose Writers' commits fail (a full or failing disk): rows are
// being lost, or held back by the workers' outboxes, until a commit works again.
type WriteFailure struct {
	Err   string    // the latest commit's error
	Since time.Time // the first failed commit since the last that worked (store clock)
	Rows  int64     // rows in the failed commits since then
}

type writeFault struct {
	mu      sync.Mutex
	failing bool
	f       WriteFailure
}

// WriteFailure reports whether the latest commit of a Writer failed, and since when.
func (db *DB) WriteFailure() (WriteFailure, bool) {
	db.fault.mu.Lock()
	defer db.fault.mu.Unlock()
	return db.fault.f, db.fault.failing
}

// noteCommit records a Writer's commit of n rows.
func (db *DB) noteCommit(n int, err error) {
	db.fault.mu.Lock()
	defer db.fault.mu.Unlock()
	if err == nil {
		db.fault.failing = false
		return
	}
	if !db.fault.failing {
		db.fault.failing = true
		db.fault.f = WriteFailure{Since: db.now()}
	}
	db.fault.f.Err = err.Error()
	db.fault.f.Rows += int64(n)
}
