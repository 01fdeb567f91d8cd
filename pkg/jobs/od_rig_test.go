package jobs

import (
	"encoding/json"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// odRig is a simRig with chosen plant parameters and configuration, and a unit cache dir for
// the OD family of jobs. Build it inside a synctest bubble.
type odRig struct {
	*simRig
	cacheDir string
}

// odSpecs are the OD family's job table entries on one unit's deps, as the daemon builds them.
func odSpecs(d ODDeps) []supervisor.Spec {
	return []supervisor.Spec{NewODReadingSpec(d), NewGrowthRateSpec(d), NewODBlankSpec(d), NewSelfTestSpec(d), NewStirringSpec(nil)}
}

// newODRig builds a unit on plant parameters p with the default config overridden by
// overrides ([section, key, value]). cacheDir "" makes a fresh one.
func newODRig(t *testing.T, p sim.Params, cacheDir string, overrides ...[3]string) *odRig {
	t.Helper()
	return newODRigDeps(t, p, ODDeps{CacheDir: cacheDir, Simulated: true}, overrides...)
}

// newODRigDeps is newODRig with chosen deps (calibrations); an empty CacheDir makes a fresh one.
func newODRigDeps(t *testing.T, p sim.Params, d ODDeps, overrides ...[3]string) *odRig {
	t.Helper()
	if d.CacheDir == "" {
		d.CacheDir = t.TempDir()
	}
	r := newRig(t, rigConfig{specs: odSpecs(d), params: &p, overrides: overrides})
	return &odRig{simRig: r, cacheDir: d.CacheDir}
}

func decodeField(t *testing.T, payload, field string) float64 {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("%q: %v", payload, err)
	}
	v, ok := m[field].(float64)
	if !ok {
		t.Fatalf("%q has no number %s", payload, field)
	}
	return v
}

// warmParams is the default plant at 30 °C (room and vial), still exponential for hours.
func warmParams() sim.Params {
	p := sim.DefaultParams()
	p.AmbientC = 30
	return p
}
