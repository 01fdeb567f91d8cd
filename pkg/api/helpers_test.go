package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testCluster is a leader and workers, each a real Server behind an httptest server, wired
// through a real cluster.Client.
type testCluster struct {
	leader  *httptest.Server
	leadU   *fakeUnit
	store   *fakeStore
	pub     *fakePublisher
	clock   *fakeClock
	workers map[string]*fakeUnit
	urls    map[string]string
}

// newUnitServer serves one unit's API (no leader part).
func newUnitServer(t *testing.T, u Unit, clock *fakeClock) *httptest.Server {
	t.Helper()
	s, err := New(Config{Unit: u, Now: clock.Now, Version: "26.6.0"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv
}

// newCluster starts a leader and one worker per name; workers are registered and active,
// with model pioreactor_20ml 1.5.
func newCluster(t *testing.T, workers ...string) *testCluster {
	t.Helper()
	tc := &testCluster{store: newFakeStore(), pub: &fakePublisher{}, clock: &fakeClock{t: t0},
		workers: map[string]*fakeUnit{}, urls: map[string]string{}, leadU: &fakeUnit{name: "leader"}}
	for _, w := range workers {
		u := &fakeUnit{name: w}
		tc.workers[w] = u
		tc.urls[w] = newUnitServer(t, u, tc.clock).URL
		_ = tc.store.PutWorker(store.Worker{Unit: w, AddedAt: t0, ModelName: "pioreactor_20ml", ModelVersion: "1.5"})
	}
	cl := cluster.New(cluster.Config{PollInterval: 5 * time.Millisecond, Resolve: func(unit string) (string, error) {
		if u, ok := tc.urls[unit]; ok {
			return u, nil
		}
		return "", fmt.Errorf("no address for %s", unit)
	}})
	s, err := New(Config{Unit: tc.leadU, Now: tc.clock.Now, Leader: &Leader{Store: tc.store, Publisher: tc.pub, Cluster: cl}})
	if err != nil {
		t.Fatal(err)
	}
	tc.leader = httptest.NewServer(s.Handler())
	tc.urls["leader"] = tc.leader.URL
	t.Cleanup(func() { tc.leader.Close(); s.Close() })
	return tc
}

func (tc *testCluster) experiment(t *testing.T, name string, units ...string) {
	t.Helper()
	if err := tc.store.CreateExperiment(store.Experiment{Name: name, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if _, err := tc.store.Assign(u, name, t0); err != nil {
			t.Fatal(err)
		}
	}
}

// call sends a request with a JSON (or raw string) body and returns the status and body.
func call(t *testing.T, base, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// decode unmarshals a JSON body into a generic value.
func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// await reads a 202 task answer and polls its result path on base until it is terminal,
// returning the terminal answer.
func await(t *testing.T, base string, status int, body string) map[string]any {
	t.Helper()
	if status != http.StatusAccepted {
		t.Fatalf("want 202, got %d %s", status, body)
	}
	acc := decode(t, body)
	path, _ := acc["result_url_path"].(string)
	if acc["status"] != "accepted" || path != "/unit_api/task_results/"+acc["task_id"].(string) {
		t.Fatalf("not a task answer: %s", body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		code, b := call(t, base, http.MethodGet, path, nil)
		v := decode(t, b)
		if code == http.StatusOK {
			return v
		}
		if code != http.StatusAccepted || v["status"] != "pending" {
			t.Fatalf("poll answered %d %s", code, b)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("task %s never finished", path)
	return nil
}

// resultJSON is the compact JSON of a succeeded task's result.
func resultJSON(t *testing.T, v map[string]any) string {
	t.Helper()
	if v["status"] != "succeeded" {
		t.Fatalf("task not succeeded: %v", v)
	}
	b, err := json.Marshal(v["result"])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
