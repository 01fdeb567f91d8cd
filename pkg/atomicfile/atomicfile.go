package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces path with data, with the given permissions.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	_, err := Write(path, perm, func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
	return err
}

// Write atomically replaces path with what fill writes, with the given permissions, and
// returns the number of bytes fill reported. On any error the target is left untouched and
// the temporary file is removed.
func Write(path string, perm os.FileMode, fill func(io.Writer) (int64, error)) (n int64, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	n, ferr := fill(tmp)
	perr := tmp.Chmod(perm)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err = errors.Join(ferr, perr, serr, cerr); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		return n, fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return n, nil
}

// SyncDir fsyncs a directory, making renames and creations inside it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
