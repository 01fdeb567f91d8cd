package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// WriterOptions configure a Writer. Zero values mean the defaults.
type WriterOptions struct {
	// MaxBatch is the most rows one transaction carries (default 5000).
	MaxBatch int
	// MaxDelay is the longest a row waits for its batch to fill (default 100 ms, as the
	// reference's streamer).
	MaxDelay time.Duration
	// Queue is how many writes may wait before Write blocks (default 4096).
	Queue int
	// Retries is how many times a failed transaction is retried before its rows are
	// given up (default 2), with RetryWait between tries (default 200 ms).
	Retries   int
	RetryWait time.Duration
}

func (o WriterOptions) withDefaults() WriterOptions {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 5000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 100 * time.Millisecond
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.Retries <= 0 {
		o.Retries = 2
	}
	if o.RetryWait <= 0 {
		o.RetryWait = 200 * time.Millisecond
	}
	return o
}

// ErrWriterClosed means the Writer's Run has returned: nothing more is written.
var ErrWriterClosed = errors.New("store writer closed")

// Writer batches rows from many goroutines into few write transactions: bbolt has one
// writer at a time and every commit costs an fsync, so one transaction carries every row
// that arrived within MaxDelay (up to MaxBatch). Run does the writing.
type Writer struct {
	db      *DB
	o       WriterOptions
	in      chan write
	stopped chan struct{}

	inserted, duplicates, invalid, failed, commits atomic.Int64
}

// WriterStats are a Writer's counters since it was made.
type WriterStats struct {
	Inserted, Duplicates, Invalid int64
	Failed                        int64 // rows lost to failed transactions
	Commits                       int64
}

type write struct {
	rows []Row
	done func(InsertStats, error)
}

// NewWriter returns a Writer on db; call Run to start it.
func (db *DB) NewWriter(o WriterOptions) *Writer {
	o = o.withDefaults()
	return &Writer{db: db, o: o, in: make(chan write, o.Queue), stopped: make(chan struct{})}
}

// Write queues rows; done, if not nil, runs on the writer's goroutine once they are
// committed (or given up), and must return quickly. Write blocks while the queue is full,
// until ctx ends or the Writer stops.
func (w *Writer) Write(ctx context.Context, rows []Row, done func(InsertStats, error)) error {
	select {
	case <-w.stopped:
		return ErrWriterClosed
	default:
	}
	select {
	case w.in <- write{rows, done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stopped:
		return ErrWriterClosed
	}
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Inserted: w.inserted.Load(), Duplicates: w.duplicates.Load(),
		Invalid: w.invalid.Load(), Failed: w.failed.Load(), Commits: w.commits.Load()}
}

// Run writes until ctx ends, then commits what is queued and returns nil. Writes that race
// with the end either make it into the last batch or get ErrWriterClosed.
func (w *Writer) Run(ctx context.Context) error {
	var batch []write
	n := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			w.commit(batch, n)
		}
		clear(batch)
		batch, n = batch[:0], 0
	}
	for {
		select {
		case <-ctx.Done():
			close(w.stopped)
			for {
				select {
				case wr := <-w.in:
					batch = append(batch, wr)
					n += len(wr.rows)
					if n >= w.o.MaxBatch {
						flush()
					}
				default:
					flush()
					return nil
				}
			}
		case wr := <-w.in:
			if len(batch) == 0 {
				timer.Reset(w.o.MaxDelay)
			}
			batch = append(batch, wr)
			n += len(wr.rows)
			if n >= w.o.MaxBatch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// commit inserts the batch in one transaction, retrying a failure, then tells each write
// its own share of the outcome.
func (w *Writer) commit(batch []write, n int) {
	stats := make([]InsertStats, len(batch))
	var err error
	for try := 0; ; try++ {
		err = w.db.update(func(tx *bolt.Tx) error {
			in := newInserter(tx)
			for i, wr := range batch {
				stats[i] = InsertStats{}
				if err := in.insert(wr.rows, &stats[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || try >= w.o.Retries {
			break
		}
		time.Sleep(w.o.RetryWait)
	}
	if err != nil {
		err = fmt.Errorf("write %d rows: %w", n, err)
		w.failed.Add(int64(n))
	} else {
		w.commits.Add(1)
	}
	w.db.noteCommit(n, err)
	for i, wr := range batch {
		if err != nil {
			stats[i] = InsertStats{} // the transaction rolled back: nothing happened
		}
		w.inserted.Add(int64(stats[i].Inserted))
		w.duplicates.Add(int64(stats[i].Duplicates))
		w.invalid.Add(int64(stats[i].Invalid))
		if wr.done != nil {
			wr.done(stats[i], err)
		}
	}
}
