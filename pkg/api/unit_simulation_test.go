package api

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestSimulationTruthRoute(t *testing.T) {
	t.Parallel()
	truth := contract.SimulationTruth{Timestamp: contract.Timestamp(t0), OD: 0.42, GrowthRatePerHour: 0.61,
		LiquidTemperatureC: 30.02, HeaterPCBTemperatureC: 41.5, VolumeML: 15, RPM: 498.7, AltMediaFraction: 0.125}
	tests := []struct {
		name     string
		sim      SimTruthFunc
		status   int
		contains string
	}{
		{"not simulated", nil, http.StatusNotFound, "This unit has no simulated bioreactor"},
		{"before the first sample", func() (contract.SimulationTruth, bool) { return contract.SimulationTruth{}, false },
			http.StatusNotFound, "No simulation truth yet"},
		{"simulated", func() (contract.SimulationTruth, bool) { return truth, true }, http.StatusOK, string(contract.Marshal(truth))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Now: (&fakeClock{t: t0}).Now, SimTruth: tt.sim})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			t.Cleanup(func() { srv.Close(); s.Close() })
			status, body := call(t, srv.URL, http.MethodGet, "/unit_api/simulation/truth", nil)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("GET /unit_api/simulation/truth = %d %s, want %d with %s", status, body, tt.status, tt.contains)
			}
		})
	}
}

// The truth dataset is listed on a simulating leader only, and charts through the generic
// table/column route.
func TestSimulationTruthDataset(t *testing.T) {
	t.Parallel()
	for _, sim := range []bool{false, true} {
		db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		cl := cluster.New(cluster.Config{Resolve: func(string) (string, error) { return "http://127.0.0.1:1", nil }})
		s, err := New(Config{Unit: &fakeUnit{name: "leader"}, Now: (&fakeClock{t: t0}).Now,
			Leader: &Leader{Store: db, Publisher: &fakePublisher{}, Cluster: cl, Simulation: sim}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); s.Close() })
		if _, err := db.Insert([]store.Row{{Table: store.SimulationTruth, Experiment: "exp1", Unit: "pio01", Time: t0.Add(-time.Minute),
			Truth: [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125}}}); err != nil {
			t.Fatal(err)
		}
		status, body := call(t, srv.URL, http.MethodGet, "/api/datasets/exportable", nil)
		if listed := strings.Contains(body, `"dataset_name":"simulation_truth"`); status != 200 || listed != sim {
			t.Errorf("simulation %v: datasets = %d, simulation_truth listed %v", sim, status, listed)
		}
		status, body = call(t, srv.URL, http.MethodGet, "/api/experiments/exp1/time_series/simulation_truth/liquid_temperature_c", nil)
		if want := `{"series":["pio01"],"data":[[{"x":"2026-03-01T11:59:00.000Z","y":30.02}]]}`; status != 200 || strings.TrimSpace(body) != want {
			t.Errorf("time series = %d %s, want %s", status, body, want)
		}
	}
}
