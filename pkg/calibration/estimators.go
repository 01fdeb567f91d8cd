package calibration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Estimators is a unit's estimator folder (docs/profiles.md, "Estimators"): one YAML file per
// estimator at <device>/<name>.yaml and the device → active name map in
// .active_estimators.yaml, the layout the jobs read (pkg/jobs od_fused.go). Estimators are
// kept as the files' members: only the jobs that use one know its fields.
type Estimators struct {
	folder // Delete, ClearActive, ActiveNames
}

// estimatorsActiveFile is the device → active estimator map beside the device folders.
const estimatorsActiveFile = ".active_estimators.yaml"

// OpenEstimators returns the estimator folder dir; it need not exist yet (no estimators).
func OpenEstimators(dir string) *Estimators {
	return &Estimators{folder{dir: dir, pointers: estimatorsActiveFile, kind: "estimator", lazy: true, notFound: estimatorNotFound}}
}

// estimatorNotFound names the missing estimator.
func estimatorNotFound(device, name, _ string) error {
	return fmt.Errorf("%w: estimator %s of %s", ErrNotFound, name, device)
}

// Estimator is one estimator file's members.
type Estimator map[string]any

// Devices lists the device folders; no folder is no devices.
func (s *Estimators) Devices() ([]string, error) {
	out, err := s.devices()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.dir, err)
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
		return nil, estimatorNotFound(device, name, path)
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

// SetActive makes name the device's active estimator; its file must exist and decode.
func (s *Estimators) SetActive(device, name string) error {
	if _, err := s.Load(device, name); err != nil {
		return err
	}
	return s.setActive(device, name)
}
