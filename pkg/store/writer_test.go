package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestWriterBatchesManyWriters(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	w := db.NewWriter(store.WriterOptions{MaxBatch: 500, MaxDelay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()

	const writers, each = 8, 300
	var done atomic.Int64
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				r := store.Row{Table: store.ODReadings, Experiment: "e", Unit: "pio0" + string(rune('0'+g)),
					Channel: "1", Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i)}
				err := w.Write(context.Background(), []store.Row{r, r}, func(st store.InsertStats, err error) {
					if err != nil || st.Inserted != 1 || st.Duplicates != 1 {
						t.Errorf("done(%+v, %v), want 1 inserted and 1 duplicate", st, err)
					}
					done.Add(1)
				})
				if err != nil {
					t.Errorf("Write: %v", err)
				}
			}
		})
	}
	wg.Wait()
	cancel()
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if done.Load() != writers*each {
		t.Errorf("%d done callbacks, want %d", done.Load(), writers*each)
	}
	st := w.Stats()
	if st.Inserted != writers*each || st.Duplicates != writers*each || st.Failed != 0 {
		t.Errorf("stats = %+v", st)
	}
	if st.Commits >= writers*each {
		t.Errorf("%d commits for %d writes: no batching", st.Commits, writers*each)
	}
	if n, _ := db.Count(store.Query{Table: store.ODReadings}); n != writers*each {
		t.Errorf("%d rows stored, want %d", n, writers*each)
	}
	if err := w.Write(context.Background(), nil, nil); !errors.Is(err, store.ErrWriterClosed) {
		t.Errorf("Write after Run returned: %v, want ErrWriterClosed", err)
	}
}

func TestWriterFlushesAfterMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openTest(t)
		w := db.NewWriter(store.WriterOptions{MaxDelay: 100 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { _ = w.Run(ctx) }()
		var committed atomic.Bool
		row := store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "u", Time: t0}
		if err := w.Write(ctx, []store.Row{row}, func(store.InsertStats, error) { committed.Store(true) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(99 * time.Millisecond)
		synctest.Wait()
		if committed.Load() {
			t.Error("committed before MaxDelay")
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if !committed.Load() {
			t.Error("not committed after MaxDelay")
		}
	})
}

func TestWriterReportsFailures(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	w := db.NewWriter(store.WriterOptions{Retries: 1, RetryWait: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	// A closed database makes every transaction fail.
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	row := store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "u", Time: t0}
	if err := w.Write(ctx, []store.Row{row}, func(_ store.InsertStats, err error) { errc <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Error("done got no error from a failed commit")
	}
	if f, failing := db.WriteFailure(); !failing || f.Rows != 1 || f.Err == "" || f.Since.IsZero() {
		t.Errorf("WriteFailure() = %+v, %v after a failed commit", f, failing)
	}
	cancel()
	<-runDone
	if st := w.Stats(); st.Failed != 1 || st.Inserted != 0 {
		t.Errorf("stats = %+v, want 1 failed", st)
	}
	reopened, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	*db = *reopened // for the cleanup's Close
}
