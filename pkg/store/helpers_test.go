package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// t0 is the tests' epoch; stored times have millisecond precision.
var t0 = time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC)

// stepClock is a clock.Clock whose Now starts at t0 and advances one second per call, so
// every stamp the store takes is distinct and predictable.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock { return &stepClock{now: t0} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func (c *stepClock) NewTicker(time.Duration) clock.Ticker { panic("stepClock has no ticker") }

// openTest opens a fresh database in a temp dir, closed when the test ends.
func openTest(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "pioreactor.bolt"), store.Options{Clock: newStepClock()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// at is t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

func mustCreate(t *testing.T, db *store.DB, names ...string) {
	t.Helper()
	for i, n := range names {
		if err := db.CreateExperiment(store.Experiment{Name: n, CreatedAt: at(i)}); err != nil {
			t.Fatalf("CreateExperiment(%s): %v", n, err)
		}
	}
}

func mustWorkers(t *testing.T, db *store.DB, units ...string) {
	t.Helper()
	for _, u := range units {
		if err := db.PutWorker(store.Worker{Unit: u, ModelName: "pioreactor_20ml", ModelVersion: "1.1"}); err != nil {
			t.Fatalf("PutWorker(%s): %v", u, err)
		}
	}
}

func mustAssign(t *testing.T, db *store.DB, unit, exp string, when time.Time) string {
	t.Helper()
	prev, err := db.Assign(unit, exp, when)
	if err != nil {
		t.Fatalf("Assign(%s, %s): %v", unit, exp, err)
	}
	return prev
}
