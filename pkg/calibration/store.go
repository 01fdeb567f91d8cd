package calibration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// activeFile holds the device → name map of active calibrations, beside the device folders.
// Names may not start with a dot, so it can never be a device.
const activeFile = ".active_calibrations.yaml"

// Store is a unit's calibration folder: <dir>/<device>/<name>.yaml, plus the active pointers.
// One Store per folder per process: it serialises its own pointer updates.
type Store struct {
	folder // Delete, ClearActive, ActiveNames
}

// Open uses dir as the calibration folder, creating it if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("calibration store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("calibration store: %w", err)
	}
	return &Store{folder{dir: dir, pointers: activeFile, kind: "calibration", notFound: calibrationNotFound}}, nil
}

// calibrationNotFound names the missing file.
func calibrationNotFound(_, _, path string) error { return fmt.Errorf("%w: %s", ErrNotFound, path) }

// Dir is the folder the store reads and writes.
func (s *Store) Dir() string { return s.dir }

// Path is where the calibration name of device lives.
func (s *Store) Path(device, name string) (string, error) { return s.path(device, name) }

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
		return Calibration{}, calibrationNotFound("", "", path)
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
	out, err := s.devices()
	if err != nil {
		return nil, fmt.Errorf("list calibration devices: %w", err)
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

// SetActive makes name the device's active calibration; its file must exist and decode.
func (s *Store) SetActive(device, name string) error {
	if _, err := s.Load(device, name); err != nil {
		return err
	}
	return s.setActive(device, name)
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
