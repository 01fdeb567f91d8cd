package descriptor

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Loader serves a Set over its folders, reading the files again only when one of them
// changed (added, removed, rewritten): a page load costs a few directory reads, and a broken
// file is logged once per change, not at every request. Safe for concurrent use.
type Loader struct {
	base    Set
	log     *slog.Logger
	folders []Folder

	mu     sync.Mutex
	stamp  string
	cached Set
	loaded bool
}

// NewLoader serves base overlaid with the folders' files (Set.Load).
func NewLoader(base Set, log *slog.Logger, folders ...Folder) *Loader {
	return &Loader{base: base, log: log, folders: folders}
}

// Set is the current descriptors.
func (l *Loader) Set() Set {
	stamp := l.fingerprint()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded || stamp != l.stamp {
		l.cached, l.stamp, l.loaded = l.base.Load(l.log, l.folders...), stamp, true
	}
	return l.cached
}

// fingerprint names every descriptor file with its size and modification time.
func (l *Loader) fingerprint() string {
	var b strings.Builder
	for _, f := range l.folders {
		dirs := []string{filepath.Join(f.Path, "jobs"), filepath.Join(f.Path, "settings"), filepath.Join(f.Path, "charts")}
		for _, typ := range AutomationTypes {
			dirs = append(dirs, filepath.Join(f.Path, "automations", typ))
		}
		for _, dir := range dirs {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				info, err := e.Info()
				if err != nil {
					continue
				}
				fmt.Fprintf(&b, "%s/%s %d %d\n", dir, e.Name(), info.Size(), info.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}
