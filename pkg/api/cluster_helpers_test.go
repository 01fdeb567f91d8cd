package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// storeCluster is a leader on the real bbolt store, with workers that are real unit Servers
// (fake supervisors, their own config files and calibration folders) whose every HTTP call
// is recorded. A unit named "dead" is in the inventory but nothing answers for it.
type storeCluster struct {
	t       *testing.T
	url     string
	db      *store.DB
	pub     *fakePublisher
	clock   *fakeClock
	dir     string
	files   map[string]*ConfigFiles
	units   map[string]*fakeUnit
	urls    map[string]string
	history *ConfigHistoryFile

	mu    sync.Mutex
	calls map[string][]string // unit -> "METHOD path body"
}

// testShared is a minimal valid shared config.ini.
const testShared = "[cluster.topology]\nleader_hostname=leader\nleader_address=127.0.0.1\n\n[mqtt]\nusername=pioreactor\n\n[bioreactor]\ninitial_volume_ml=14\n"

func newStoreCluster(t *testing.T, workers ...string) *storeCluster {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "leader.bolt"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sc := &storeCluster{t: t, db: db, pub: &fakePublisher{}, clock: &fakeClock{t: t0}, dir: dir,
		files: map[string]*ConfigFiles{}, units: map[string]*fakeUnit{}, urls: map[string]string{},
		calls: map[string][]string{}, history: NewConfigHistoryFile(filepath.Join(dir, "history.jsonl"))}
	for _, w := range append([]string{"leader"}, workers...) {
		f := &ConfigFiles{Shared: filepath.Join(dir, w, "config.ini")}
		if err := f.WriteShared([]byte(testShared)); err != nil {
			t.Fatal(err)
		}
		sc.files[w] = f
		sc.units[w] = &fakeUnit{name: w, jobs: []string{"stirring", "od_reading"},
			running: []contract.JobRow{{JobID: 1, Unit: w, Experiment: "exp1", JobName: "stirring", JobSource: "user",
				StartedAt: "2026-03-01T11:00:00.000Z", IsRunning: 1, Leader: "leader"}},
			settings: map[string]map[string]any{"stirring": {"target_rpm": 400.0}}}
	}
	for _, w := range workers {
		if err := db.PutWorker(store.Worker{Unit: w, AddedAt: t0, ModelName: "pioreactor_20ml", ModelVersion: "1.5"}); err != nil {
			t.Fatal(err)
		}
		if w == "dead" {
			continue
		}
		cals, err := calibration.Open(filepath.Join(dir, w, "calibrations"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Unit: listingUnit{sc.units[w]}, Now: sc.clock.Now, Version: "26.6.0", ConfigFiles: sc.files[w],
			Calibrations: cals, Publisher: sc.pub, Descriptors: testDescriptors(w)})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sc.record(w, s.Handler()))
		t.Cleanup(func() { srv.Close(); s.Close() })
		sc.urls[w] = srv.URL
	}
	cl := cluster.New(cluster.Config{PollInterval: 5 * time.Millisecond, SendTimeout: time.Second,
		Resolve: func(unit string) (string, error) {
			if u, ok := sc.urls[unit]; ok {
				return u, nil
			}
			return "http://127.0.0.1:1", nil // refused: a unit that is down
		}})
	s, err := New(Config{Unit: listingUnit{sc.units["leader"]}, Now: sc.clock.Now, Version: "26.6.0", ConfigFiles: sc.files["leader"],
		Descriptors: testDescriptors("leader"),
		Leader: &Leader{Store: db, Publisher: sc.pub, Cluster: cl, ConfigHistory: sc.history, Profiles: testProfiles(t, dir),
			Addresses: map[string]string{"pio01": "192.168.1.11", "pio02": "127.0.0.1:4100"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sc.record("leader", s.Handler()))
	t.Cleanup(func() { srv.Close(); s.Close() })
	sc.url, sc.urls["leader"] = srv.URL, srv.URL
	return sc
}

// record notes every request a unit receives (task polls aside).
func (sc *storeCluster) record(unit string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/unit_api/task_results/") {
			// Only the head of a body is noted: a test sends endless ones.
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4<<10))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
			sc.mu.Lock()
			sc.calls[unit] = append(sc.calls[unit], strings.TrimSpace(fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, b)))
			sc.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// task sends a request that must answer 202 and returns its task's raw result, polled to
// the end, keys in the order the server wrote them.
func (sc *storeCluster) task(method, path string, body any) string {
	sc.t.Helper()
	status, b := sc.call(method, path, body)
	acc := await(sc.t, sc.url, status, b)
	_, raw := call(sc.t, sc.url, "GET", acc["result_url_path"].(string), nil)
	var v struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Status != "succeeded" {
		sc.t.Fatalf("task of %s %s: %s", method, path, raw)
	}
	return string(v.Result)
}

// Calls returns the unit_api calls a unit received (its /api ones aside).
func (sc *storeCluster) Calls(unit string) []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var out []string
	for _, c := range sc.calls[unit] {
		if strings.Contains(c, " /unit_api/") {
			out = append(out, c)
		}
	}
	return out
}

// waitCall waits until unit received call (fire-and-forget fan-outs).
func (sc *storeCluster) waitCall(unit, call string) {
	sc.t.Helper()
	eventually(sc.t, func() bool { return slices.Contains(sc.Calls(unit), call) })
}

func (sc *storeCluster) call(method, path string, body any) (int, string) {
	sc.t.Helper()
	return call(sc.t, sc.url, method, path, body)
}

// experiment creates exp and assigns units to it in the store.
func (sc *storeCluster) experiment(name string, units ...string) {
	sc.t.Helper()
	if err := sc.db.CreateExperiment(store.Experiment{Name: name, CreatedAt: t0}); err != nil {
		sc.t.Fatal(err)
	}
	for _, u := range units {
		if _, err := sc.db.Assign(u, name, t0); err != nil {
			sc.t.Fatal(err)
		}
	}
}

func (sc *storeCluster) file(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<missing>"
	}
	return string(b)
}
