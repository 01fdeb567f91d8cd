package calibration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
)

// activeFile holds the device → name map of active calibrations, beside the device folders.
// Names may not start with a dot, so it can never be a device.
const activeFile = ".active_calibrations.yaml"

// Store is a unit's calibration folder: <dir>/<device>/<name>.yaml, plus the active pointers.
// One Store per folder per process: it serialises its own pointer updates.
type Store struct {
	dir string
	mu  sync.Mutex // guards the pointer file's read-modify-write
}

// Open uses dir as the calibration folder, creating it if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("calibration store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("calibration store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the folder the store reads and writes.
func (s *Store) Dir() string { return s.dir }

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

// Path is where the calibration name of device lives.
func (s *Store) Path(device, name string) (string, error) {
	if err := ValidName(device); err != nil {
		return "", fmt.Errorf("device: %w", err)
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("calibration name: %w", err)
	}
	return filepath.Join(s.dir, device, name+".yaml"), nil
}

// Save validates c and writes it as <device>/<c.Name>.yaml, replacing any file of that name.
func (s *Store) Save(device string, c Calibration) (string, error) {
	path, err := s.Path(device, c.Name)
	if err != nil {
		return "", err
	}
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	return path, writeAtomic(path, data)
}

// Load reads one calibration; a missing file is ErrNotFound, a bad one ErrInvalid naming it.
func (s *Store) Load(device, name string) (Calibration, error) {
	path, err := s.Path(device, name)
	if err != nil {
		return Calibration{}, err
	}
	return loadFile(path)
}

func loadFile(path string) (Calibration, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Calibration{}, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return Calibration{}, fmt.Errorf("read %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return Calibration{}, fmt.Errorf("error reading %s: %w", path, err)
	}
	return c, nil
}

// Devices lists the devices that have a folder, sorted.
func (s *Store) Devices() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list calibration devices: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List returns the device's calibrations sorted by file name. Files that do not decode are
// skipped and reported together in the error, so one bad file hides no good one.
func (s *Store) List(device string) ([]Calibration, error) {
	if err := ValidName(device); err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(s.dir, device, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []Calibration
	var errs []error
	for _, p := range paths {
		c, err := loadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// Delete removes a calibration file and clears the device's active pointer if it named it.
func (s *Store) Delete(device, name string) error {
	path, err := s.Path(device, name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, path)
	} else if err != nil {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return s.updatePointers(func(m map[string]string) {
		if m[device] == name {
			delete(m, device)
		}
	})
}

// SetActive makes name the device's active calibration; its file must exist and decode.
func (s *Store) SetActive(device, name string) error {
	if _, err := s.Load(device, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updatePointers(func(m map[string]string) { m[device] = name })
}

// ClearActive removes the device's active pointer; clearing an absent one is fine.
func (s *Store) ClearActive(device string) error {
	if err := ValidName(device); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updatePointers(func(m map[string]string) { delete(m, device) })
}

// ActiveNames is the device → active calibration name map.
func (s *Store) ActiveNames() (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readPointers()
}

// Active returns the device's active calibration; ok is false when there is none. A pointer
// to a file that vanished or no longer decodes is an error.
func (s *Store) Active(device string) (c Calibration, ok bool, err error) {
	if err := ValidName(device); err != nil {
		return Calibration{}, false, fmt.Errorf("device: %w", err)
	}
	names, err := s.ActiveNames()
	if err != nil {
		return Calibration{}, false, err
	}
	name, ok := names[device]
	if !ok {
		return Calibration{}, false, nil
	}
	c, err = s.Load(device, name)
	if err != nil {
		return Calibration{}, false, fmt.Errorf("active calibration of %s: %w", device, err)
	}
	return c, true, nil
}

func (s *Store) readPointers() (map[string]string, error) {
	path := filepath.Join(s.dir, activeFile)
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

func (s *Store) updatePointers(change func(map[string]string)) error {
	m, err := s.readPointers()
	if err != nil {
		return err
	}
	change(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.dir, activeFile), data)
}

// writeAtomic replaces path through atomicfile (temp file, fsync, rename, fsync of the
// directory), so neither a crash nor a power cut leaves half a file or loses the rename.
func writeAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644)
}
