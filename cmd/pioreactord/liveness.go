package main

import (
	"errors"
	"time"

	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// inventoryLiveness is the leader's store as the monitor's lost-worker watch uses it.
type inventoryLiveness struct{ db *store.DB }

// leaderWorkers is the lost-worker watch's inventory on the leader's own unit, nil elsewhere.
func leaderWorkers(db *store.DB) jobs.WorkerLiveness {
	if db == nil {
		return nil
	}
	return inventoryLiveness{db}
}

func (l inventoryLiveness) InInventory(unit string) (bool, error) {
	_, err := l.db.Worker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (l inventoryLiveness) SetLost(unit string, since time.Time) error {
	return l.db.SetWorkerLost(unit, since)
}
