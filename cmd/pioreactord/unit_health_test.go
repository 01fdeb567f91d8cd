package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// The leader's own unit reports its store's failing commits to health.
func TestUnitHealthReportsAFailingStore(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "pioreactor.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := unitAPI{u: &unit{leaderDB: db}}
	if p := u.Problems(); len(p) != 0 {
		t.Fatalf("problems of a working store: %+v", p)
	}
	w := db.NewWriter(store.WriterOptions{Retries: 1, RetryWait: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	if err := db.Close(); err != nil { // every commit fails from now on
		t.Fatal(err)
	}
	done := make(chan error, 1)
	row := store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "u", Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if err := w.Write(ctx, []store.Row{row}, func(_ store.InsertStats, err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("a commit on a closed store worked")
	}
	p := u.Problems()
	if len(p) != 1 || p[0].What != "database write" || p[0].Count != 1 || p[0].Error == "" {
		t.Errorf("problems = %+v, want the failing database write", p)
	}
}
