package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// ConfigFiles are a unit's two INI files (docs/config.md, "Files"): the shared config.ini, which
// the leader distributes, and the unit's own unit_config.ini. The routes only ever write
// these two paths, whatever a request says.
type ConfigFiles struct {
	Shared string // config.ini
	Unit   string // unit_config.ini; "" means unit_config.ini beside Shared
}

func (f *ConfigFiles) unitPath() string {
	if f.Unit != "" {
		return f.Unit
	}
	return filepath.Join(filepath.Dir(f.Shared), "unit_config.ini")
}

// ReadShared returns config.ini; a missing file is an error wrapping fs.ErrNotExist.
func (f *ConfigFiles) ReadShared() ([]byte, error) {
	b, err := os.ReadFile(f.Shared)
	if err != nil {
		return nil, fmt.Errorf("read shared config: %w", err)
	}
	return b, nil
}

// ReadUnit returns unit_config.ini, empty when it does not exist.
func (f *ConfigFiles) ReadUnit() ([]byte, error) {
	b, err := os.ReadFile(f.unitPath())
	if errors.Is(err, fs.ErrNotExist) {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read unit config: %w", err)
	}
	return b, nil
}

// WriteShared replaces config.ini atomically, keeping its mode.
func (f *ConfigFiles) WriteShared(text []byte) error { return writeAtomic(f.Shared, text) }

// WriteUnit replaces unit_config.ini atomically, keeping its mode.
func (f *ConfigFiles) WriteUnit(text []byte) error { return writeAtomic(f.unitPath(), text) }

// writeAtomic replaces path through atomicfile (temp file, fsync, rename, fsync of the
// directory), keeping its mode, so a reader (a job starting, the daemon reloading) sees the
// old file or the new one, never half of one, and a power cut keeps one of the two.
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, data, mode)
}

// effectiveConfig is this unit's config as a job would see it: shared overlaid by unit.
func (s *Server) effectiveConfig() (*config.Config, error) {
	f := s.cfg.ConfigFiles
	if f == nil {
		return nil, errors.New("no config files")
	}
	shared, err := f.ReadShared()
	if err != nil {
		return nil, err
	}
	unit, err := f.ReadUnit()
	if err != nil {
		return nil, err
	}
	return config.Parse(shared, unit)
}

// ConfigSnapshot is one saved version of a config file (table config_files_histories).
type ConfigSnapshot struct {
	Filename  string `json:"filename"`
	Timestamp string `json:"timestamp"`
	Data      string `json:"data"`
}

// ConfigHistory keeps the saved versions of config files by file name: `config.ini`,
// `unit_config.ini::<unit>` and the legacy `config_<unit>.ini`.
type ConfigHistory interface {
	AddConfigSnapshot(filename string, at time.Time, data string) error
	// ConfigSnapshots lists a file's snapshots, newest first.
	ConfigSnapshots(filename string) ([]ConfigSnapshot, error)
	DeleteConfigSnapshots(filename string) error
}

func unitConfigHistoryName(unit string) string   { return "unit_config.ini::" + unit }
func legacyConfigHistoryName(unit string) string { return "config_" + unit + ".ini" }

// ConfigHistoryFile is a ConfigHistory in a JSON-lines file, one snapshot a line, appended
// on save. Config edits are rare and small, so reading means reading the whole file.
type ConfigHistoryFile struct {
	path string
	mu   sync.Mutex
}

// NewConfigHistoryFile keeps the history at path (created on the first save).
func NewConfigHistoryFile(path string) *ConfigHistoryFile { return &ConfigHistoryFile{path: path} }

func (h *ConfigHistoryFile) AddConfigSnapshot(filename string, at time.Time, data string) error {
	line, err := json.Marshal(ConfigSnapshot{Filename: filename, Timestamp: contract.FormatTime(at), Data: data})
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("config history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("config history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("config history: %w", err)
	}
	return f.Close()
}

func (h *ConfigHistoryFile) ConfigSnapshots(filename string) ([]ConfigSnapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	all, err := h.readLocked()
	if err != nil {
		return nil, err
	}
	out := []ConfigSnapshot{}
	for _, s := range all {
		if s.Filename == filename {
			out = append(out, s)
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (h *ConfigHistoryFile) DeleteConfigSnapshots(filename string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	all, err := h.readLocked()
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(all, func(s ConfigSnapshot) bool { return s.Filename == filename })
	var b bytes.Buffer
	for _, s := range kept {
		line, _ := json.Marshal(s)
		b.Write(append(line, '\n'))
	}
	return writeAtomic(h.path, b.Bytes())
}

// readLocked reads every snapshot; a line that does not decode (a torn last write) is
// skipped rather than hiding the others.
func (h *ConfigHistoryFile) readLocked() ([]ConfigSnapshot, error) {
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config history: %w", err)
	}
	defer f.Close()
	var out []ConfigSnapshot
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var s ConfigSnapshot
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Filename != "" {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config history: %w", err)
	}
	return out, nil
}
