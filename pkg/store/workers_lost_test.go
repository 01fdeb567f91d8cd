package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSetWorkerLost(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "leader.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutWorker(Worker{Unit: "pio01"}); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := db.SetWorkerLost("pio01", since); err != nil {
		t.Fatal(err)
	}
	if w, err := db.Worker("pio01"); err != nil || !w.LostSince.Equal(since) {
		t.Fatalf("after marking: %+v, %v", w, err)
	}
	if ws, err := db.Workers(); err != nil || len(ws) != 1 || !ws[0].LostSince.Equal(since) {
		t.Fatalf("inventory %+v, %v", ws, err)
	}
	if err := db.SetWorkerLost("pio01", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if w, _ := db.Worker("pio01"); !w.LostSince.IsZero() {
		t.Fatalf("after recovery: lost since %v", w.LostSince)
	}
	if err := db.SetWorkerLost("pio09", since); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown worker: %v", err)
	}
}
