package jobs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// TestGrowthRateReadsFusedODOnXR: on an XR model with an active od_fused estimator growth
// rate filters od_fused as the pseudo-channel "1"; without the estimator, or on a model that
// is not XR, it filters ods (docs/jobs.md, "growth_rate_calculating").
func TestGrowthRateReadsFusedODOnXR(t *testing.T) {
	for _, c := range []struct {
		name      string
		model     contract.Model
		estimator bool
		want      map[string]float64 // the warm-up's normalisation factors
	}{
		{"XR with an estimator", contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}, true, map[string]float64{"1": 2}},
		{"40 ml XR with an estimator", contract.Model{Name: "pioreactor_40ml_XR", Version: "1.5"}, true, map[string]float64{"1": 2}},
		{"XR without an estimator", contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}, false, map[string]float64{"2": 0.5}},
		{"not XR, with an estimator", contract.Model{Name: "pioreactor_20ml", Version: "1.5"}, true, map[string]float64{"2": 0.5}},
		{"model unknown, with an estimator", contract.Model{}, true, map[string]float64{"2": 0.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				unitDir := t.TempDir()
				cache := filepath.Join(unitDir, "cache")
				if err := os.MkdirAll(cache, 0o755); err != nil {
					t.Fatal(err)
				}
				if c.estimator {
					writeEstimator(t, filepath.Join(unitDir, "estimators"), 80)
				}
				r := newODRigDeps(t, warmParams(), ODDeps{CacheDir: cache, Simulated: true, Estimators: filepath.Join(unitDir, "estimators")},
					[3]string{"growth_rate_calculating.config", "samples_for_od_statistics", "3"})
				defer r.close()
				env := map[string]string{"EXPERIMENT": "exp", "MODEL_NAME": c.model.Name, "MODEL_VERSION": c.model.Version}
				if err := r.sup.StartJob(context.Background(), "growth_rate_calculating", contract.RunRequest{Env: env}); err != nil {
					t.Fatal(err)
				}
				t0 := time.Now()
				for i := range grDiscard + 3 {
					at := contract.Timestamp(t0.Add(time.Duration(i) * 5 * time.Second))
					ods, _ := json.Marshal(contract.ODReadings{Timestamp: at, ODs: map[string]any{
						"2": contract.RawODReading{Timestamp: at, Angle: "90", OD: 0.5, Channel: "2"}}})
					fused, _ := json.Marshal(contract.ODFused{ODFused: 2, Timestamp: at})
					r.publish(contract.JobTopic("pio01", "exp", "od_reading", "ods"), string(ods), false)
					r.publish(contract.JobTopic("pio01", "exp", "od_reading", "od_fused"), string(fused), false)
					time.Sleep(time.Millisecond)
				}
				var f map[string]float64
				if ok, err := (unitCache{dir: cache}).get(cacheODNormalization, "exp", &f); !ok || err != nil {
					t.Fatalf("no normalisation factors after the warm-up (%v)", err)
				}
				if len(f) != len(c.want) {
					t.Fatalf("factors %v, want %v", f, c.want)
				}
				for ch, v := range c.want {
					if f[ch] != v {
						t.Fatalf("factors %v, want %v", f, c.want)
					}
				}
			})
		})
	}
}
