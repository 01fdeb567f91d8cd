package jobs

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Closed loop on the simulated culture at 30 °C, run as a user would: od_blank on the vial
// of media, then inoculation (the same unit with X0 = 0.05), od_reading and
// growth_rate_calculating. The estimate must be within 10 % of the true specific growth rate
// within 2 simulated hours and stay there for the next hour of exponential growth.
func TestGrowthRateTracksSimulatedCulture(t *testing.T) {
	cacheDir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		media := warmParams()
		media.InitialOD = 0
		r := newODRig(t, media, cacheDir)
		r.start("od_blank", nil)
		waitDisconnected(t, r, "od_blank")
		r.close()
	})
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, warmParams(), cacheDir)
		defer r.close()
		r.start("od_reading", nil)
		r.start("growth_rate_calculating", nil)
		start := time.Now()
		settled := time.Duration(-1)
		var worst float64
		for time.Since(start) < 3*time.Hour {
			time.Sleep(5 * time.Minute)
			gr := r.retained("growth_rate_calculating", "growth_rate")
			if gr == "" {
				continue
			}
			est := decodeField(t, gr, "growth_rate")
			truth := r.plant.Truth().GrowthRatePerHour
			rel := math.Abs(est-truth) / truth
			switch {
			case rel > 0.10:
				settled = -1
			case settled < 0:
				settled = time.Since(start)
			}
			if time.Since(start) >= 2*time.Hour {
				worst = math.Max(worst, rel)
			}
			t.Logf("t=%v growth_rate=%.4f true=%.4f (%.1f %%) OD=%.3f", time.Since(start).Round(time.Minute), est, truth, 100*rel, r.plant.Truth().OD)
		}
		if settled < 0 || settled > 2*time.Hour {
			t.Fatalf("estimate not within 10 %% of the true rate from 2 h on (settled at %v)", settled)
		}
		t.Logf("within 10 %% from %v on; worst error from 2 h to 3 h: %.1f %%", settled.Round(time.Minute), 100*worst)
	})
}

// waitDisconnected waits (virtual time) for an action to end.
func waitDisconnected(t *testing.T, r *odRig, job string) {
	t.Helper()
	for range 600 {
		time.Sleep(time.Second)
		if r.retained(job, "$state") == "disconnected" {
			return
		}
	}
	t.Fatalf("%s still %q after 10 min", job, r.retained(job, "$state"))
}

// The normalisation factors are stored per experiment and reused by the next run.
func TestGrowthRateKeepsNormalizationFactors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, warmParams(), "")
		defer r.close()
		r.start("od_reading", nil)
		r.start("growth_rate_calculating", nil)
		time.Sleep(3 * time.Minute)
		var first map[string]float64
		if ok, err := (unitCache{dir: r.cacheDir}).get(cacheODNormalization, "exp", &first); !ok || err != nil || first["2"] <= 0 {
			t.Fatalf("factors %v, %v, %v", first, ok, err)
		}
		nod := decodeField(t, r.retained("growth_rate_calculating", "od_filtered"), "od_filtered")
		if math.Abs(nod-1) > 0.05 {
			t.Fatalf("od_filtered %v at start, want ≈ 1", nod)
		}
		r.set("growth_rate_calculating", "$state", "disconnected")
		time.Sleep(time.Hour) // the culture grows meanwhile
		r.start("growth_rate_calculating", nil)
		time.Sleep(3 * time.Minute)
		var again map[string]float64
		_, _ = (unitCache{dir: r.cacheDir}).get(cacheODNormalization, "exp", &again)
		if again["2"] != first["2"] {
			t.Fatalf("factors changed from %v to %v", first, again)
		}
		if nod := decodeField(t, r.retained("growth_rate_calculating", "od_filtered"), "od_filtered"); nod < 1.2 {
			t.Fatalf("od_filtered %v after an hour of growth with the old factors, want > 1.2", nod)
		}
		if err := ClearGrowthRateCache(r.cacheDir, "exp"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := (unitCache{dir: r.cacheDir}).get(cacheODNormalization, "exp", &again); ok {
			t.Fatal("cleared factors still there")
		}
	})
}

// growthRig drives growth_rate_calculating with hand-written ods and dosing events.
type growthRig struct {
	*odRig
	t0 time.Time
	n  int
}

func (g *growthRig) od(v float64, at time.Time) {
	p := contract.ODReadings{Timestamp: contract.Timestamp(at), ODs: map[string]any{
		"2": contract.RawODReading{Timestamp: contract.Timestamp(at), Angle: "90", OD: contract.Decimal(v), Channel: "2"}}}
	b, _ := json.Marshal(p)
	g.publish(contract.JobTopic("pio01", "exp", "od_reading", "ods"), string(b), false)
	g.n++
	time.Sleep(time.Millisecond)
}

func (g *growthRig) dose() {
	b, _ := json.Marshal(contract.DosingEvent{VolumeChange: 1, Event: contract.AddMedia, Timestamp: contract.Timestamp(time.Now())})
	g.publish(contract.DosingEventsTopic("pio01", "exp"), string(b), false)
	time.Sleep(time.Millisecond)
}

func newGrowthRig(t *testing.T) *growthRig {
	r := newODRig(t, warmParams(), "", [3]string{"growth_rate_calculating.config", "samples_for_od_statistics", "3"})
	r.start("growth_rate_calculating", nil)
	return &growthRig{odRig: r, t0: time.Now()}
}

// The first 5 readings are discarded, the warm-up takes samples_for_od_statistics; the
// factor is the warm-up median; a dose during warm-up restarts it.
func TestGrowthRateWarmUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGrowthRig(t)
		defer g.close()
		for i := range 5 {
			g.od(9, g.t0.Add(time.Duration(i)*5*time.Second)) // discarded: would dominate the median
		}
		g.od(0.10, g.t0.Add(30*time.Second))
		g.dose() // restarts the warm-up
		for i, v := range []float64{0.20, 0.22, 0.21} {
			g.od(v, g.t0.Add(time.Duration(7+i)*5*time.Second))
		}
		if got := g.retained("growth_rate_calculating", "growth_rate"); got != "" {
			t.Fatalf("growth_rate %q published during warm-up", got)
		}
		var f map[string]float64
		if _, err := (unitCache{dir: g.cacheDir}).get(cacheODNormalization, "exp", &f); err != nil || f["2"] != 0.21 {
			t.Fatalf("factor %v (%v), want the median 0.21 of the warm-up after the dose", f, err)
		}
		g.od(0.21, g.t0.Add(50*time.Second))
		if got := g.retained("growth_rate_calculating", "od_filtered"); got == "" {
			t.Fatal("no od_filtered after the warm-up")
		}
	})
}

// Late data and bad values are refused without ending the job; a reading without a channel
// the factors have is skipped, not a crash.
func TestGrowthRateRefusesBadObservations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGrowthRig(t)
		defer g.close()
		for i := range 8 {
			g.od(0.2, g.t0.Add(time.Duration(i)*5*time.Second))
		}
		g.od(0.2, g.t0.Add(60*time.Second))
		before := g.retained("growth_rate_calculating", "od_filtered")
		g.od(0.2, g.t0.Add(30*time.Second)) // late
		g.od(-0.1, g.t0.Add(65*time.Second))
		g.od(0, g.t0.Add(70*time.Second))
		g.publish(contract.JobTopic("pio01", "exp", "od_reading", "ods"), `{"timestamp":"2026-01-01T00:00:00Z","ods":{"3":{"od":0.2}}}`, false)
		g.publish(contract.JobTopic("pio01", "exp", "od_reading", "ods"), `not json`, false)
		g.publish(contract.DosingEventsTopic("pio01", "exp"), `{"volume_change":`, false)
		time.Sleep(time.Second)
		if after := g.retained("growth_rate_calculating", "od_filtered"); after != before {
			t.Fatalf("od_filtered moved from %s to %s on refused data", before, after)
		}
		if st := g.retained("growth_rate_calculating", "$state"); st != "ready" {
			t.Fatalf("state %q after bad input", st)
		}
		g.od(0.2, g.t0.Add(75*time.Second))
		if after := g.retained("growth_rate_calculating", "od_filtered"); after == before {
			t.Fatal("a good reading after bad ones was not processed")
		}
	})
}

// A dose flags exactly the next two updates: the drop in OD it causes goes into the level
// at once. Without a dose the same drop is an outlier, down-weighted: the level barely moves.
// Either way the growth rate stays near 0.
func TestGrowthRateDilutionGoesIntoLevel(t *testing.T) {
	for _, dosed := range []bool{false, true} {
		t.Run(fmt.Sprint("dosed=", dosed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newGrowthRig(t)
				defer g.close()
				at := g.t0
				for range 60 {
					g.od(0.2, at)
					at = at.Add(5 * time.Second)
				}
				before := decodeField(t, g.retained("growth_rate_calculating", "od_filtered"), "od_filtered")
				if dosed {
					g.dose()
				}
				for range 2 {
					g.od(0.16, at)
					at = at.Add(5 * time.Second)
				}
				after := decodeField(t, g.retained("growth_rate_calculating", "od_filtered"), "od_filtered")
				mu := decodeField(t, g.retained("growth_rate_calculating", "growth_rate"), "growth_rate")
				drop := after / before
				if dosed && math.Abs(drop-0.8) > 0.02 || !dosed && drop < 0.95 || math.Abs(mu) > 0.2 {
					t.Fatalf("dosed %v: od_filtered %v -> %v (×%.3f), growth rate %v", dosed, before, after, drop, mu)
				}
			})
		})
	}
}

func TestGrowthRateRefusesBadConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, o := range [][3]string{
			{"growth_rate_calculating.config", "samples_for_od_statistics", "0"},
			{"growth_rate_calculating.config", "samples_for_od_statistics", "2.5"},
			{"growth_rate_calculating.config", "ekf_outlier_std_threshold", "2.0"},
			{"growth_rate_calculating.config", "ekf_outlier_std_threshold", "many"},
			{"od_reading.config", "samples_per_second", "0"},
		} {
			r := newODRig(t, warmParams(), "", o)
			if err := r.startErr("growth_rate_calculating", nil); err == nil {
				t.Errorf("config %v accepted", o)
			}
			if st := r.retained("growth_rate_calculating", "$state"); st != "" {
				t.Errorf("refused start published state %q", st)
			}
			r.close()
		}
	})
}
