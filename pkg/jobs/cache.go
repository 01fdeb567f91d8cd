package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
)

// Persistent cache namespaces of the OD pipeline (docs/data.md, "Unit caches"), keyed by experiment.
const (
	cacheODBlank          = "od_blank"
	cacheODNormalization  = "od_normalization_mean"
	cacheIRReference      = "ir_led_reference_normalization"
	cacheSelfTestResults  = "self_test_results"
	cacheFileMode         = 0o644
	cacheDirMode          = 0o755
	cacheNamespaceFileExt = ".json"
)

// unitCache is a unit's small persistent key-value cache: one JSON object per namespace in
// dir/<namespace>.json. Writes go through atomicfile (temporary file, fsync, rename, fsync of
// the directory), so a crash or a power cut leaves the previous or the new content, never
// half of it, and a write that returned is on disk. An empty dir disables the cache: nothing
// is found and writes are dropped.
type unitCache struct{ dir string }

// cacheLocks serialises read-modify-write of one file across jobs of the process.
var cacheLocks sync.Map // path -> *sync.Mutex

func (c unitCache) lock(ns string) (path string, unlock func()) {
	path = filepath.Join(c.dir, ns+cacheNamespaceFileExt)
	m, _ := cacheLocks.LoadOrStore(path, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return path, mu.Unlock
}

func readNamespace(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cache %s: %w", path, err)
	}
	m := map[string]json.RawMessage{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("cache %s is corrupt: %w", path, err)
		}
	}
	return m, nil
}

// get decodes namespace[key] into v and reports whether it was there.
func (c unitCache) get(ns, key string, v any) (bool, error) {
	if c.dir == "" {
		return false, nil
	}
	path, unlock := c.lock(ns)
	defer unlock()
	m, err := readNamespace(path)
	if err != nil {
		return false, err
	}
	raw, ok := m[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("cache %s[%s]: %w", ns, key, err)
	}
	return true, nil
}

// put stores v as namespace[key]; a nil v deletes the key.
func (c unitCache) put(ns, key string, v any) error {
	if c.dir == "" {
		return nil
	}
	path, unlock := c.lock(ns)
	defer unlock()
	m, err := readNamespace(path)
	if err != nil {
		// A corrupt namespace is replaced rather than blocking every later write.
		m = map[string]json.RawMessage{}
	}
	if v == nil {
		delete(m, key)
	} else {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("cache %s[%s]: %w", ns, key, err)
		}
		m[key] = raw
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("cache %s: %w", ns, err)
	}
	if err := os.MkdirAll(c.dir, cacheDirMode); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, cacheFileMode); err != nil {
		return fmt.Errorf("write cache %s: %w", ns, err)
	}
	return nil
}

// ClearGrowthRateCache forgets the normalisation factors growth_rate_calculating stored for
// an experiment (the reference's `growth_rate_calculating clear_cache`).
func ClearGrowthRateCache(cacheDir, experiment string) error {
	return unitCache{dir: cacheDir}.put(cacheODNormalization, experiment, nil)
}

// ClearODBlank forgets an experiment's blank (the reference's `od_blank delete`); publishing
// the cleared `od_blank/means` is the caller's business.
func ClearODBlank(cacheDir, experiment string) error {
	return unitCache{dir: cacheDir}.put(cacheODBlank, experiment, nil)
}
