package api

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// TestWithRealStore runs the inventory routes on bbolt, so the fake cannot drift from the
// store's real errors (ErrNotFound, ErrExists, ErrUnknownWorker, ...).
func TestWithRealStore(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "leader.bolt"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	clock := &fakeClock{t: t0}
	pub := &fakePublisher{}
	cl := cluster.New(cluster.Config{Resolve: func(string) (string, error) { return "http://127.0.0.1:1", nil }})
	s, err := New(Config{Unit: &fakeUnit{name: "leader"}, Now: clock.Now,
		Leader: &Leader{Store: db, Publisher: pub, Cluster: cl}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })

	for _, c := range []struct {
		method, path, body string
		status             int
		want               string // "" checks the status only
	}{
		{"GET", "/api/experiments/latest", "", 200, "null"},
		{"POST", "/api/experiments", `{"experiment":"exp1","tags":["b","a","B"]}`, 201,
			`{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":0,"worker_count":0,"tags":["b","a"]}`},
		{"POST", "/api/experiments", `{"experiment":"exp1"}`, 409, ""},
		{"GET", "/api/experiments/nope", "", 404, ""},
		{"GET", "/api/workers/pio01", "", 404, ""},
		{"PUT", "/api/workers", `{"pioreactor_unit":"pio01","model_name":"pioreactor_40ml","model_version":"1.0"}`, 201, `{"status":"success"}`},
		{"PUT", "/api/experiments/exp1/workers", `{"pioreactor_unit":"ghost"}`, 400, ""},
		{"PUT", "/api/experiments/nope/workers", `{"pioreactor_unit":"pio01"}`, 404, ""},
		{"DELETE", "/api/experiments/exp1/workers/pio01", "", 404, ""},
		{"PUT", "/api/experiments/exp1/workers", `{"pioreactor_unit":"pio01"}`, 200, `{"status":"success"}`},
		{"GET", "/api/experiments/exp1", "", 200,
			`{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":0,"worker_count":1,"tags":["b","a"]}`},
		{"GET", "/api/workers/assignments", "", 200, `[{"pioreactor_unit":"pio01","experiment":"exp1","is_active":1}]`},
		{"GET", "/api/experiments/exp1/workers", "", 200, `[{"pioreactor_unit":"pio01","is_active":1,"model_name":"pioreactor_40ml","model_version":"1.0"}]`},
		{"DELETE", "/api/experiments/exp1/workers/pio01", "", 200, `{"status":"success"}`},
		{"GET", "/api/units", "", 200, `[{"pioreactor_unit":"leader"},{"pioreactor_unit":"pio01"}]`},
	} {
		status, body := call(t, srv.URL, c.method, c.path, c.body)
		if status != c.status || (c.want != "" && body != c.want) {
			t.Errorf("%s %s: %d %s\nwant %d %s", c.method, c.path, status, body, c.status, c.want)
		}
	}
}
