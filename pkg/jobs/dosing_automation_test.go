package jobs

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// testTransfer is a dosing automation for tests: one execute_io_action of the volumes given
// as options, 2 s after the start.
type testTransfer struct {
	a                 *DosingAutomation
	media, alt, waste float64
}

// testDosingAutomations is the production registry plus _test_transfer.
func testDosingAutomations() map[string]DosingFactory {
	reg := DosingAutomations()
	reg["_test_transfer"] = newTestTransfer
	return reg
}

func newTestTransfer(o supervisor.Options, a *DosingAutomation) (Automation, error) {
	t := &testTransfer{a: a}
	var r collect
	t.media = r.float(o.Float("media_ml", 0))
	t.alt = r.float(o.Float("alt_media_ml", 0))
	t.waste = r.float(o.Float("waste_ml", 0))
	if err := r.err(); err != nil {
		return nil, err
	}
	return t, a.needPumps(o, mediaPump, altMediaPump, wastePump)
}

func (t *testTransfer) Start(context.Context) error {
	return t.a.runEvery(5e5, false, 2*time.Second) // once: the next run is a year away
}

func (t *testTransfer) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	moved, err := t.a.executeIO(ctx, t.waste, inflow{contract.AddMedia, t.media}, inflow{contract.AddAltMedia, t.alt})
	if err != nil {
		return nil, err
	}
	return contract.NewAutomationEvent(contract.DilutionEvent, "", moved.data()), nil
}

// Sub-dosing (docs/algorithms.md, "Dosing arithmetic"): media 1.25 + alt 0.01 + waste 1.26 from 14 mL at the efflux
// level runs as two sub-doses, with twice the waste as extra; the bookkeeping ends at 14 mL
// and the reference's alt-media fraction.
func TestDosingSubdoses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams(), [3]string{"bioreactor", "initial_volume_ml", "14"},
			[3]string{"bioreactor", "efflux_tube_volume_ml", "14"})
		defer r.close()
		for _, dev := range []string{calibration.MediaPump, calibration.AltMediaPump, calibration.WastePump} {
			r.calibrate(dev, 1)
		}
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "_test_transfer", "media_ml": 1.25, "alt_media_ml": 0.01, "waste_ml": 1.26}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if got, want := r.events.volumes(""), []float64{0.5, 0.125, 0.005, 0.5, 0.13, 0.5, 0.5, 0.26, 0.5, 0.125, 0.005, 0.5, 0.13, 0.5, 0.5, 0.26}; !approxSlice(got, want, 1e-9) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if v, phi := r.bio(contract.CurrentVolumeML), r.bio(contract.AltMediaFraction); !near(v, 14, 1e-9) || !near(phi, 0.0006688099108144436, 1e-12) {
			t.Fatalf("bookkeeping %v mL, fraction %v", v, phi)
		}
		ev := r.latestEvent()
		if ev.EventName != contract.DilutionEvent || !near(ev.Data["media_ml"].(float64), 1.25, 1e-9) || !near(ev.Data["waste_ml"].(float64), 1.26, 1e-9) {
			t.Fatalf("latest event %+v: the extra waste must not be reported", ev)
		}
	})
}

// The leaf guard (docs/jobs.md, "Transfers"): at 0.7 mL below the maximum fill, media 0.4 goes in, alt
// 0.4 would reach it, so the automation pauses and asks every pump action to stop, in order.
func TestDosingVolumeGuard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		for _, dev := range []string{calibration.MediaPump, calibration.AltMediaPump, calibration.WastePump} {
			r.calibrate(dev, 1)
		}
		stops := make(chan string, 16)
		obs, err := r.bus.Dial(context.Background(), pubsub.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer obs.Close()
		if err := obs.Subscribe(context.Background(), "pioreactor/pio01/exp/+/$state/set", pubsub.AtLeastOnce, func(m pubsub.Message) {
			p, _ := contract.Parse(m.Topic)
			if string(m.Payload) == "disconnected" {
				stops <- p.Job
			}
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "_test_transfer", "current_volume_ml": 35.3,
			"media_ml": 0.4, "alt_media_ml": 0.4, "waste_ml": 0.8}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if got := r.events.volumes(""); !approxSlice(got, []float64{0.4}, 1e-9) {
			t.Fatalf("events %v, want only media 0.4", got)
		}
		if st := r.retained(dosingJobName, "$state"); st != "sleeping" {
			t.Fatalf("state %q, want sleeping", st)
		}
		var order []string
		for len(stops) > 0 {
			order = append(order, <-stops)
		}
		if want := []string{contract.AddMedia, contract.AddAltMedia, contract.RemoveWaste}; len(order) < 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
			t.Fatalf("pump stops %v, want %v", order, want)
		}
	})
}

// Pausing or stopping the automation midway through a dose switches the pump off at once and
// corrects the published volume.
func TestDosingStoppedMidway(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"sleeping", "disconnected", "pump stop"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				r.calibrateTruly()
				if err := r.startErr(dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.8}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2*time.Second + 3250*time.Millisecond) // 3.25 s into the media dose
				switch how {
				case "pump stop":
					r.set(contract.AddMedia, "$state", "disconnected")
				default:
					r.set(dosingJobName, "$state", how)
				}
				time.Sleep(500 * time.Millisecond)
				truth := r.plant.Truth()
				flow := truth.PumpFlowMLPerS["2"]
				vols := r.events.volumes(contract.AddMedia)
				if len(vols) == 0 || vols[len(vols)-1] >= 0 || !near(r.events.sum(contract.AddMedia), 3.25*flow, 1e-6) {
					t.Fatalf("media events %v (sum %v): want a correction down to %v", vols, r.events.sum(contract.AddMedia), 3.25*flow)
				}
				time.Sleep(time.Minute)
				if after := r.plant.Truth().MediaML; !near(after, truth.MediaML, 1e-9) {
					t.Fatalf("media pump still on: %v -> %v mL", truth.MediaML, after)
				}
				if how == "sleeping" {
					r.set(dosingJobName, "$state", "ready")
					time.Sleep(20 * time.Minute) // the next exchange comes on the timer
					if s := r.events.sum(contract.AddMedia); !near(s, 3.25*flow+0.8, 1e-6) {
						t.Fatalf("after resume: media %v mL, want %v", s, 3.25*flow+0.8)
					}
				}
			})
		})
	}
}

// Chemostat closed loop: the delivered media matches the exchange rate and the vial never
// holds more than the efflux level plus one dose.
func TestChemostatClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateTruly()
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		const exchange, period = 0.5, 20 * time.Minute
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": exchange, "duration": 20.0}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		start := r.plant.Truth()
		maxVol := 0.0
		const hours = 6
		for end := time.Now().Add(hours * time.Hour); time.Now().Before(end); time.Sleep(time.Second) {
			maxVol = math.Max(maxVol, r.plant.Truth().VolumeML)
		}
		end := r.plant.Truth()
		perHour := (end.MediaML - start.MediaML) / hours
		want := exchange * float64(time.Hour/period)
		t.Logf("chemostat: %.4f mL/h delivered (configured %.4f), vial at most %.4f mL", perHour, want, maxVol)
		if math.Abs(perHour-want)/want > 0.02 {
			t.Fatalf("delivered %v mL/h, want %v ± 2 %%", perHour, want)
		}
		if limit := 15 + exchange*1.05; maxVol > limit || end.OverflowML > 0 {
			t.Fatalf("vial reached %v mL (limit %v), overflow %v mL", maxVol, limit, end.OverflowML)
		}
		if ev := r.latestEvent(); ev.EventName != contract.DilutionEvent {
			t.Fatalf("latest event %+v", ev)
		}
		if v, cum := r.bio(contract.CurrentVolumeML), r.bio(contract.CumulativeMediaAddedML); !near(v, 15, 1e-9) || !near(cum, r.events.sum(contract.AddMedia), 1e-9) {
			t.Fatalf("bookkeeping volume %v, cumulative media %v, events %v", v, cum, r.events.sum(contract.AddMedia))
		}
	})
}

// Turbidostat closed loop on the normalised OD of growth_rate_calculating: once the culture
// reaches the target, the OD stays within ±10 % of it for 24 h, and every dose is published.
func TestTurbidostatClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One OD reading every 30 s keeps 24 simulated hours cheap.
		r := newDosingRig(t, sim.DefaultParams(), [3]string{"od_reading.config", "samples_per_second", "0.0333333"})
		defer r.close()
		r.calibrateTruly()
		for _, job := range []string{BioreactorJobName, "od_reading", "growth_rate_calculating"} {
			if err := r.startErr(job, nil); err != nil {
				t.Fatal(err)
			}
		}
		const target = 2.0
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "turbidostat", "target_biomass": target, "exchange_volume_ml": 1.0}); err != nil {
			t.Fatal(err)
		}
		if sig := r.retained(dosingJobName, "biomass_signal"); sig != "normalized_od" {
			t.Fatalf("biomass_signal %q", sig)
		}
		nod := func() float64 {
			var f contract.ODFiltered
			_ = json.Unmarshal([]byte(r.retained("growth_rate_calculating", "od_filtered")), &f)
			return float64(f.ODFiltered)
		}
		var reachedAfter time.Duration
		for t0 := time.Now(); len(r.events.all()) == 0; time.Sleep(time.Minute) {
			if reachedAfter = time.Since(t0); reachedAfter > 24*time.Hour {
				t.Fatalf("the culture never reached the target: nOD %v", nod())
			}
		}
		odAtTarget := r.plant.Truth().OD
		lo, hi := math.Inf(1), math.Inf(-1)
		tlo, thi := math.Inf(1), math.Inf(-1)
		for end := time.Now().Add(24 * time.Hour); time.Now().Before(end); time.Sleep(30 * time.Second) {
			x := nod()
			lo, hi = math.Min(lo, x), math.Max(hi, x)
			od := r.plant.Truth().OD / odAtTarget
			tlo, thi = math.Min(tlo, od), math.Max(thi, od)
		}
		truth := r.plant.Truth()
		doses := r.events.sum(contract.AddMedia)
		t.Logf("turbidostat: target reached after %v; nOD within [%.3f, %.3f] for 24 h; true OD within [%.3f, %.3f]× its value at target; %.1f mL media published, %.1f mL delivered",
			reachedAfter.Round(time.Minute), lo, hi, tlo, thi, doses, truth.MediaML)
		if lo < 0.9*target || hi > 1.1*target {
			t.Fatalf("nOD left ±10 %% of %v: [%v, %v]", target, lo, hi)
		}
		if tlo < 0.9 || thi > 1.1 {
			t.Fatalf("true OD left ±10 %% of its value at target: [%v, %v]", tlo, thi)
		}
		if doses < 10 || math.Abs(truth.MediaML-doses) > 0.03*doses {
			t.Fatalf("published %v mL of media, the vial got %v mL", doses, truth.MediaML)
		}
		if truth.OverflowML > 0 || truth.VolumeML > 16.1 {
			t.Fatalf("volume %v mL, overflow %v mL", truth.VolumeML, truth.OverflowML)
		}
	})
}
