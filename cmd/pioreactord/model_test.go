package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// TestUnitModel: the model the leader sends is the unit's, and still is after a restart; the
// process's MODEL_NAME/MODEL_VERSION override it; a unit told nothing does not know.
func TestUnitModel(t *testing.T) {
	t.Parallel()
	v10 := contract.Model{Name: "pioreactor_20ml", Version: "1.0"}
	xr := contract.Model{Name: "pioreactor_40ml_XR", Version: "1.5"}
	for _, c := range []struct {
		name       string
		env        contract.Model
		set        *contract.Model // what the leader sends, if anything
		want       contract.Model  // before and after a restart
		wantBefore contract.Model  // before the leader sends it
	}{
		{"told nothing", contract.Model{}, nil, contract.Model{}, contract.Model{}},
		{"the leader's", contract.Model{}, &xr, xr, contract.Model{}},
		{"the environment's over the leader's", v10, &xr, v10, v10},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "model.json")
			m, err := openUnitModel(path, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Model(); got != c.wantBefore {
				t.Fatalf("before: %+v, want %+v", got, c.wantBefore)
			}
			if c.set != nil {
				if err := (unitAPI{u: &unit{model: m}}).SetModel(*c.set); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.Model(); got != c.want {
				t.Fatalf("%+v, want %+v", got, c.want)
			}
			again, err := openUnitModel(path, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := again.Model(); got != c.want {
				t.Fatalf("after a restart: %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestUnitVessel: a unit's dosing book, and the volume bounds of its descriptors, follow the
// model it keeps, looked up in the model registry (a user model included) as soon as it is
// learned; a model unknown or not registered is the 40 ml one.
func TestUnitVessel(t *testing.T) {
	t.Parallel()
	custom := api.Model{ModelName: "my_vial", ModelVersion: "2.0", ReactorCapacityML: 30, ReactorMaxFillVolumeML: 25}
	models := append(api.BuiltinModels(), custom)
	ml40, ml20 := jobs.Vessel40ml, jobs.Vessel{CapacityML: 20, MaxFillML: 18}
	for _, c := range []struct {
		name  string
		model *contract.Model // what the leader sends, if anything
		want  jobs.Vessel
	}{
		{"told nothing", nil, ml40},
		{"20 ml v1.5", &contract.Model{Name: "pioreactor_20ml", Version: "1.5"}, ml20},
		{"20 ml v1.0", &contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, ml20},
		{"20 ml XR", &contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}, ml20},
		{"40 ml XR", &contract.Model{Name: "pioreactor_40ml_XR", Version: "1.5"}, ml40},
		{"not registered", &contract.Model{Name: "pioreactor_20ml", Version: "9.9"}, ml40},
		{"a user model", &contract.Model{Name: "my_vial", Version: "2.0"}, jobs.Vessel{CapacityML: 30, MaxFillML: 25}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conf := config.LoadDefault()
			u, err := openUnit("pio01", unitDeps{dataDir: t.TempDir(), leader: "leader", dialer: pubsub.NewBus(), clock: clock.Real{},
				log: slog.New(slog.DiscardHandler), conf: conf, models: models})
			if err != nil {
				t.Fatal(err)
			}
			defer u.close()
			d := &daemon{conf: conf, log: slog.New(slog.DiscardHandler)}
			descriptors := d.descriptorsOf(u)
			if got := volumeMax(t, descriptors()); got != 40 {
				t.Fatalf("descriptors before the model: max %v, want 40", got)
			}
			if c.model != nil {
				if err := (unitAPI{u: u}).SetModel(*c.model); err != nil {
					t.Fatal(err)
				}
			}
			if got := u.dosing.Bioreactor.Vessel(); got != c.want {
				t.Fatalf("vessel %+v, want %+v", got, c.want)
			}
			if got := volumeMax(t, descriptors()); got != c.want.CapacityML {
				t.Fatalf("descriptors: current_volume_ml max %v, want %v", got, c.want.CapacityML)
			}
		})
	}
}

// volumeMax is the bound of current_volume_ml in the bioreactor collection of s.
func volumeMax(t *testing.T, s descriptor.Set) float64 {
	t.Helper()
	for _, c := range s.Collections {
		for _, st := range c.PublishedSettings {
			if c.Key == "bioreactor" && st.Key == contract.CurrentVolumeML && st.Max != nil {
				return *st.Max
			}
		}
	}
	t.Fatal("no bound on current_volume_ml")
	return 0
}

// fakeLeader answers GET /api/workers/<unit>/model from a script of results, one per call.
type fakeLeader struct {
	results []cluster.Result
	calls   int
}

func (f *fakeLeader) Do(_ context.Context, units []string, r cluster.Request) cluster.Results {
	i := min(f.calls, len(f.results)-1)
	f.calls++
	res := f.results[i]
	res.Unit = units[0]
	return cluster.Results{res}
}

// TestLearnModel: a unit keeps the model the leader's inventory holds for it; it asks again
// while the leader cannot be reached or fails, and stops at a refusal (not registered).
func TestLearnModel(t *testing.T) {
	t.Parallel()
	xr := contract.Model{Name: "pioreactor_40ml_XR", Version: "1.5"}
	ok := cluster.Result{OK: true, Value: json.RawMessage(`{"pioreactor_unit":"pio01","model_name":"pioreactor_40ml_XR","model_version":"1.5","reactor_capacity_ml":40}`)}
	down := cluster.Result{Retryable: true, Error: &cluster.Failure{Kind: cluster.ConnectionError, Message: "refused"}}
	status := 404
	unknown := cluster.Result{StatusCode: &status, Error: &cluster.Failure{Kind: cluster.HTTPError, Message: "Worker not found"}}
	for _, c := range []struct {
		name      string
		results   []cluster.Result
		wantCalls int
		want      contract.Model
	}{
		{"the inventory's model", []cluster.Result{ok}, 1, xr},
		{"leader down, then up", []cluster.Result{down, down, ok}, 3, xr},
		{"not in the inventory", []cluster.Result{unknown, ok}, 1, contract.Model{}},
		{"a model-less answer", []cluster.Result{{OK: true, Value: json.RawMessage(`{"pioreactor_unit":"pio01"}`)}}, 1, contract.Model{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "model.json")
			m, err := openUnitModel(path, contract.Model{})
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeLeader{results: c.results}
			learnModel(context.Background(), f, "leader", "pio01", m, time.Millisecond, slog.New(slog.DiscardHandler))
			if f.calls != c.wantCalls || m.Model() != c.want {
				t.Fatalf("%d calls, model %+v; want %d calls, %+v", f.calls, m.Model(), c.wantCalls, c.want)
			}
			if again, err := openUnitModel(path, contract.Model{}); err != nil || again.Model() != c.want {
				t.Fatalf("after a restart: %+v (%v), want %+v", again.Model(), err, c.want)
			}
		})
	}
	t.Run("stops when the daemon does", func(t *testing.T) {
		t.Parallel()
		m, err := openUnitModel(filepath.Join(t.TempDir(), "model.json"), contract.Model{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f := &fakeLeader{results: []cluster.Result{down}}
		learnModel(ctx, f, "leader", "pio01", m, time.Hour, slog.New(slog.DiscardHandler))
		if f.calls != 1 {
			t.Fatalf("%d calls after the daemon stopped, want 1", f.calls)
		}
	})
}

// TestSimWorkersLearnTheirModel: under --sim --demo the workers are registered as 40 ml v1.5
// units, and each keeps that model from the leader's inventory at start.
func TestSimWorkersLearnTheirModel(t *testing.T) {
	dir := t.TempDir()
	startCluster(t, "--units", "2", "--demo", "--data-dir", dir)
	want := contract.Model{Name: "pioreactor_40ml", Version: "1.5"}
	for _, u := range []string{"pio01", "pio02"} {
		path := filepath.Join(dir, u, "model.json")
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got contract.Model
			m, err := openUnitModel(path, contract.Model{})
			if err == nil {
				got = m.Model()
			}
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s keeps %+v (%v), want %+v", u, got, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
