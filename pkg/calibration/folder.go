package calibration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
)

// folder is a folder of named YAML documents per device, <dir>/<device>/<name>.yaml, plus a
// pointer file in dir mapping device → active name. Store and Estimators embed one; they
// decode the documents, folder only knows their paths and the pointers.
// One folder per directory per process: it serialises its own pointer updates.
type folder struct {
	dir      string
	pointers string // the pointer file's name; starting with a dot, it can never be a device
	kind     string // "calibration" or "estimator", as bad names are reported
	lazy     bool   // dir need not exist: a pointer write creates it, failing as "<kind>s: err"
	// notFound is the error of a missing document.
	notFound func(device, name, path string) error

	mu sync.Mutex // guards the pointer file's read-modify-write
}

// ValidName reports whether name is a single safe file-name component: not empty, no path
// separator, no NUL, not starting with a dot (which also rules out "." and "..").
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("%w: %q contains a path separator", ErrBadName, name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("%w: %q starts with a dot", ErrBadName, name)
	case len(name) > 200:
		return fmt.Errorf("%w: %q is longer than 200 bytes", ErrBadName, name)
	}
	return nil
}

func (f *folder) path(device, name string) (string, error) {
	if err := ValidName(device); err != nil {
		return "", fmt.Errorf("device: %w", err)
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("%s name: %w", f.kind, err)
	}
	return filepath.Join(f.dir, device, name+".yaml"), nil
}

// devices lists the device folders in dir, sorted; errors are os.ReadDir's, unwrapped.
func (f *folder) devices() ([]string, error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Delete removes a document's file and clears the device's active pointer if it named it.
func (f *folder) Delete(device, name string) error {
	path, err := f.path(device, name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return f.notFound(device, name, path)
	} else if err != nil {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return f.updatePointers(func(m map[string]string) {
		if m[device] == name {
			delete(m, device)
		}
	})
}

// setActive points device at name; the caller has checked that the document loads.
func (f *folder) setActive(device, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updatePointers(func(m map[string]string) { m[device] = name })
}

// ClearActive removes the device's active pointer; clearing an absent one is fine.
func (f *folder) ClearActive(device string) error {
	if err := ValidName(device); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updatePointers(func(m map[string]string) { delete(m, device) })
}

// ActiveNames is the device → active name map.
func (f *folder) ActiveNames() (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readPointers()
}

func (f *folder) readPointers() (map[string]string, error) {
	path := filepath.Join(f.dir, f.pointers)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("error reading %s: %w", path, err)
	}
	if m == nil {
		m = map[string]string{}
	}
	return m, nil
}

func (f *folder) updatePointers(change func(map[string]string)) error {
	m, err := f.readPointers()
	if err != nil {
		return err
	}
	change(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if f.lazy {
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			return fmt.Errorf("%ss: %w", f.kind, err)
		}
	}
	return writeAtomic(filepath.Join(f.dir, f.pointers), data)
}

// writeAtomic replaces path through atomicfile (temp file, fsync, rename, fsync of the
// directory), so neither a crash nor a power cut leaves half a file or loses the rename.
func writeAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644)
}
