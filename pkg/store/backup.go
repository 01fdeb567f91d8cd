package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
)

// Backup writes a consistent copy of the whole file to w while the database stays in use
// (bbolt's Tx.WriteTo inside one read transaction: writers go on, the copy is the state
// at its start). It returns the number of bytes written.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", db.path, err)
	}
	return n, nil
}

// BackupFile writes a hot backup to path: into a temporary file beside it, synced, then
// renamed, so path is either the old backup or the complete new one, never half of one.
func (db *DB) BackupFile(path string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", path, err)
	}
	n, err := atomicfile.Write(path, 0o600, db.Backup)
	if err != nil {
		return n, fmt.Errorf("back up to %s: %w", path, err)
	}
	return n, nil
}

// Restore replaces the database file at path with the backup at from, before the
// database is opened (a daemon restores at start-up, never under a running store). The
// backup is checked first (a pioreactord file this binary can read, every page
// consistent); the file it replaces is kept as path+".pre-restore".
func Restore(from, path string) error {
	if err := checkBackup(from); err != nil {
		return fmt.Errorf("restore %s from %s: %w", path, from, err)
	}
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	defer src.Close()
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, path+".pre-restore"); err != nil {
			return fmt.Errorf("restore %s: keep the current file: %w", path, err)
		}
	}
	if _, err := atomicfile.Write(path, 0o600, func(w io.Writer) (int64, error) { return io.Copy(w, src) }); err != nil {
		return fmt.Errorf("restore %s from %s: %w", path, from, err)
	}
	return nil
}

// checkBackup opens a backup read-only and checks it is one of ours, not from a newer
// binary, and internally consistent.
func checkBackup(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	b, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer b.Close()
	return guard(func() error {
		return b.View(func(tx *bolt.Tx) error {
			v, err := schemaVersion(tx)
			if err != nil {
				return err
			}
			if tx.Bucket(bucketMeta) == nil {
				return fmt.Errorf("%w: no meta bucket", ErrForeign)
			}
			if v > uint64(SchemaVersion()) {
				return fmt.Errorf("%w: backup has version %d", ErrSchemaTooNew, v)
			}
			return checkTx(tx)
		})
	})
}

// Check walks every page of the file and reports any inconsistency (ErrCorrupt), as an
// fsck would; the database stays usable meanwhile.
func (db *DB) Check() error {
	if err := db.view(checkTx); err != nil {
		return fmt.Errorf("check %s: %w", db.path, err)
	}
	return nil
}

func checkTx(tx *bolt.Tx) error {
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
	}
	return nil
}
