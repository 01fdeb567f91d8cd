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
)

// Estimators is a unit's estimator folder (docs/profiles.md, "Estimators"): one YAML file per
// estimator at <device>/<name>.yaml and the device → active name map in
// .active_estimators.yaml, the layout the jobs read (pkg/jobs od_fused.go). Estimators are
// kept as the files' members: only the jobs that use one know its fields.
type Estimators struct {
	dir string
	mu  sync.Mutex // serialises pointer updates
}

// estimatorsActiveFile is the device → active estimator map beside the device folders.
const estimatorsActiveFile = ".active_estimators.yaml"

// OpenEstimators returns the estimator folder dir; it need not exist yet (no estimators).
func OpenEstimators(dir string) *Estimators { return &Estimators{dir: dir} }

// Estimator is one estimator file's members.
type Estimator map[string]any

func (s *Estimators) path(device, name string) (string, error) {
	if err := ValidName(device); err != nil {
		return "", fmt.Errorf("device: %w", err)
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("estimator name: %w", err)
	}
	return filepath.Join(s.dir, device, name+".yaml"), nil
}

// Devices lists the device folders; no folder is no devices.
func (s *Estimators) Devices() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List reads every estimator of device, by name; unreadable files are skipped and reported
// together in the error beside what could be read. No folder is no estimators.
func (s *Estimators) List(device string) (map[string]Estimator, error) {
	if err := ValidName(device); err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, device))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Estimator{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read estimators of %s: %w", device, err)
	}
	out := map[string]Estimator{}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if e.IsDir() || !ok || ValidName(name) != nil {
			continue
		}
		est, err := s.Load(device, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[name] = est
	}
	return out, errors.Join(errs...)
}

// Load reads one estimator; a missing file is ErrNotFound, one that is not a YAML mapping
// ErrInvalid.
func (s *Estimators) Load(device, name string) (Estimator, error) {
	path, err := s.path(device, name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: estimator %s of %s", ErrNotFound, name, device)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var est Estimator
	if err := yaml.Unmarshal(b, &est); err != nil || len(est) == 0 {
		return nil, fmt.Errorf("%w: estimator %s of %s is not a YAML mapping (%v)", ErrInvalid, name, device, err)
	}
	return est, nil
}

// Delete removes an estimator file and clears the device's active pointer if it named it.
func (s *Estimators) Delete(device, name string) error {
	path, err := s.path(device, name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: estimator %s of %s", ErrNotFound, name, device)
	} else if err != nil {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return s.updatePointers(func(m map[string]string) {
		if m[device] == name {
			delete(m, device)
		}
	})
}

// SetActive makes name the device's active estimator; its file must exist and decode.
func (s *Estimators) SetActive(device, name string) error {
	if _, err := s.Load(device, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updatePointers(func(m map[string]string) { m[device] = name })
}

// ClearActive removes the device's active pointer; clearing an absent one is fine.
func (s *Estimators) ClearActive(device string) error {
	if err := ValidName(device); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updatePointers(func(m map[string]string) { delete(m, device) })
}

// ActiveNames is the device → active estimator name map.
func (s *Estimators) ActiveNames() (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readPointers()
}

func (s *Estimators) readPointers() (map[string]string, error) {
	path := filepath.Join(s.dir, estimatorsActiveFile)
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

func (s *Estimators) updatePointers(change func(map[string]string)) error {
	m, err := s.readPointers()
	if err != nil {
		return err
	}
	change(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("estimators: %w", err)
	}
	return writeAtomic(filepath.Join(s.dir, estimatorsActiveFile), data)
}
