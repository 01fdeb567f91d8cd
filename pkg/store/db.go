package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// DefaultTimeout is how long Open waits for the file lock when Options.Timeout is zero:
// long enough to ride out a restarting daemon, short enough that a second one fails fast.
const DefaultTimeout = 2 * time.Second

// Options configure Open. The zero value is a durable database on the wall clock.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process (zero: DefaultTimeout).
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for files on tmpfs (the volatile job registry),
	// where fsync buys nothing and a crash loses the file anyway.
	NoSync bool
	// Clock stamps rows the caller does not time itself (label created_at, the unassigned_at
	// of an interval closed by a cascade). Nil means the wall clock.
	Clock clock.Clock
}

// DB is an open pioreactord database file. It is safe for concurrent use.
type DB struct {
	bolt  *bolt.DB
	path  string
	clock clock.Clock
	fault *writeFault // the Writers' failing commits (health.go)
}

// Open opens (creating if needed, with its parent directories) the database at path and
// brings its schema up to date. It refuses files from a newer schema, foreign bbolt files
// and garbage, each with its own sentinel error.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open store: %w", ErrEmptyName)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	b, err := openBolt(path, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if err != nil {
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, fmt.Errorf("open store %s: %w (waited %s)", path, ErrLocked, timeout)
		case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
			errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, errPanic):
			return nil, fmt.Errorf("open store %s: %w: %v", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path, clock: opts.Clock, fault: &writeFault{}}
	if db.clock == nil {
		db.clock = clock.Real{}
	}
	if err := guard(db.checkSize); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := guard(func() error { return db.migrate(migrations) }); err != nil {
		_ = b.Close() // the migration error is the one worth reporting
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// errPanic marks a panic from bbolt turned into an error: bbolt panics on some damaged
// pages, and a bad file must not take the daemon down.
var errPanic = errors.New("bbolt panicked")

// openBolt is bolt.Open with faults turned into errors. A file shorter than its meta page
// claims makes bbolt read past the end of the mapping: SIGBUS, fatal unless the goroutine
// asked for a panic instead. (The fd of such a failed open is left to its finalizer.)
func openBolt(path string, o *bolt.Options) (b *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

// now is the store's clock, in UTC and at the millisecond precision rows are stored with.
func (db *DB) now() time.Time { return db.clock.Now().UTC().Truncate(time.Millisecond) }

// view runs a read transaction. fn must copy out every byte slice it keeps: they die with
// the transaction.
func (db *DB) view(fn func(tx *bolt.Tx) error) error { return db.bolt.View(fn) }

// update runs a write transaction; any error from fn rolls the whole of it back.
func (db *DB) update(fn func(tx *bolt.Tx) error) error { return db.bolt.Update(fn) }

// checkSize refuses a truncated file, whose pages past the end would fault on any later
// read: bbolt itself never compares the file with the high-water mark in its meta page.
func (db *DB) checkSize() error {
	info, err := os.Stat(db.path)
	if err != nil {
		return err
	}
	return db.view(func(tx *bolt.Tx) error {
		if info.Size() < tx.Size() {
			return fmt.Errorf("%w: file is %d bytes, its meta page claims %d (truncated?)",
				ErrCorrupt, info.Size(), tx.Size())
		}
		return nil
	})
}

// guard turns a panic or memory fault into ErrCorrupt. Only Open uses it: bbolt panics on
// some damaged pages, and the first full read of a bad file must fail with an error, not
// take the daemon down. Later panics are bugs and should surface as such.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}
