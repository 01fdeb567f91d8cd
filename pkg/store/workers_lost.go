package store

import (
	"fmt"
	"time"
)

// SetWorkerLost records that the worker's monitor went `lost` at since, or, with a zero
// since, that it is back; ErrNotFound for a unit not in the inventory. Re-registering a
// worker (PutWorker) clears it too.
func (db *DB) SetWorkerLost(unit string, since time.Time) error {
	err := db.modifyWorker(unit, func(r *workerRecord) {
		r.LostSince = ""
		if !since.IsZero() {
			r.LostSince = formatTime(since)
		}
	})
	if err != nil {
		return fmt.Errorf("set worker %s lost since %v: %w", unit, since, err)
	}
	return nil
}
