package profile

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

// Dir is the leader's folder of profile files (*.yaml, *.yml).
type Dir struct {
	Path string
	mu   sync.Mutex // one writer at a time: create must not race another create
}

// Listed is one profile file as the list route shows it.
type Listed struct {
	Profile  map[string]any `json:"experimentProfile"`
	File     string         `json:"file"`
	FullPath string         `json:"fullpath"`
	modTime  int64
}

// CleanName checks a file name: a plain name ending .yaml or .yml. With strip, path
// components are dropped first (reads and deletes); without, a name with any is refused.
func CleanName(name string, strip bool) (string, error) {
	base := filepath.Base(filepath.Clean("/" + name))
	switch {
	case !strip && base != name:
		return "", fmt.Errorf("%w: %q has path components; give a plain file name", ErrBadFilename, name)
	case base == "/" || base == "." || strings.HasPrefix(base, "."):
		return "", fmt.Errorf("%w: %q", ErrBadFilename, name)
	case !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml"):
		return "", fmt.Errorf("%w: %q must end in .yaml or .yml", ErrBadFilename, name)
	case strings.ContainsAny(base, "\x00\\"):
		return "", fmt.Errorf("%w: %q", ErrBadFilename, name)
	}
	return base, nil
}

// List parses every profile file, newest modification first. An empty or unreadable file is
// listed under a placeholder name, so it can still be opened and fixed.
func (d *Dir) List() ([]Listed, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Listed{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list experiment profiles: %w", err)
	}
	out := []Listed{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (!strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")) {
			continue
		}
		full := filepath.Join(d.Path, name)
		info, err := e.Info()
		if err != nil {
			continue
		}
		src, err := os.ReadFile(full)
		if err != nil {
			continue
		}
		l := Listed{File: name, FullPath: full, modTime: info.ModTime().UnixNano()}
		var m map[string]any
		if yaml.Unmarshal(src, &m) != nil || m == nil {
			m = map[string]any{"experiment_profile_name": "temporary name: " + strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")}
		}
		l.Profile = plain(m).(map[string]any)
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].modTime != out[j].modTime {
			return out[i].modTime > out[j].modTime
		}
		return out[i].File < out[j].File
	})
	return out, nil
}

// Read returns a profile's raw YAML.
func (d *Dir) Read(name string) ([]byte, error) {
	base, err := CleanName(name, true)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(d.Path, base))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, base)
	}
	return src, err
}

// Write saves body as name; with create it refuses an existing file. The caller validated it.
func (d *Dir) Write(name string, body []byte, create bool) error {
	base, err := CleanName(name, false)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	path := filepath.Join(d.Path, base)
	if create {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, base)
		}
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("save experiment profile: %w", err)
	}
	if err := atomicfile.WriteFile(path, body, 0o644); err != nil {
		return fmt.Errorf("save experiment profile: %w", err)
	}
	return nil
}

// Delete removes a profile file.
func (d *Dir) Delete(name string) error {
	base, err := CleanName(name, true)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	err = os.Remove(filepath.Join(d.Path, base))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, base)
	}
	return err
}
