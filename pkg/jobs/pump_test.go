package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/clocktest"
	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

func approxSlice(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			return false
		}
	}
	return true
}

// Event accounting of docs/jobs.md, "Pump actions" (pumps): events come every 0.5 s ahead of the pumping,
// and a stop midway publishes a correction.
func TestPumpActionEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		slope   float64
		options map[string]any
		stopAt  time.Duration // 0: not stopped
		want    []float64
	}{
		{"0.8 mL at 1 mL/s", 1, map[string]any{"ml": 0.8}, 0, []float64{0.5, 0.3}},
		{"1.0 mL at 1 mL/s, no terminal event", 1, map[string]any{"ml": 1.0}, 0, []float64{0.5, 0.5}},
		{"0.01 mL at 20 mL/s", 20, map[string]any{"ml": 0.01}, 0, []float64{0.01}},
		{"ml = 0 never pumps", 1, map[string]any{"ml": 0.0}, 0, nil},
		{"duration 1.0 s at 1 mL/s", 1, map[string]any{"duration": 1.0}, 0, []float64{0.5, 0.5}},
		{"ml given as a string", 1, map[string]any{"ml": "0.8"}, 0, []float64{0.5, 0.3}},
		{"interrupted at 0.25 s", 1, map[string]any{"ml": 0.8}, 250 * time.Millisecond, []float64{0.5, -0.25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				r.calibrate(calibration.MediaPump, tc.slope)
				if err := r.startErr(contract.AddMedia, tc.options); err != nil {
					t.Fatal(err)
				}
				if tc.stopAt > 0 {
					time.Sleep(tc.stopAt)
					r.set(contract.AddMedia, "$state", "disconnected")
				}
				time.Sleep(5 * time.Second)
				if got := r.events.volumes(contract.AddMedia); !approxSlice(got, tc.want, 1e-9) {
					t.Fatalf("events %v, want %v", got, tc.want)
				}
				if r.retained(contract.AddMedia, "$state") != "disconnected" {
					t.Fatalf("state %q after the dose", r.retained(contract.AddMedia, "$state"))
				}
				// The pump is off: nothing more flows.
				m := r.plant.Truth().MediaML
				time.Sleep(10 * time.Second)
				if after := r.plant.Truth().MediaML; after != m {
					t.Fatalf("media still flowing after the action: %v -> %v mL", m, after)
				}
				if tc.want == nil && m != 0 {
					t.Fatalf("ml = 0 moved %v mL", m)
				}
			})
		})
	}
}

// With a calibration that matches the pump, what is published is what the vial received.
func TestPumpActionDeliversWhatItPublishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateTruly()
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		// Two actions at once: the light lifecycle allows it, each on its own pump.
		if err := r.startErr(contract.AddMedia, map[string]any{"ml": 2.0, "source_of_event": "test"}); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(contract.AddAltMedia, map[string]any{"ml": 1.0}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		truth := r.plant.Truth()
		for _, c := range []struct {
			event     string
			want, got float64
		}{{contract.AddMedia, 2, truth.MediaML}, {contract.AddAltMedia, 1, truth.AltMediaML}} {
			if s := r.events.sum(c.event); !near(s, c.want, 1e-9) || !near(c.got, c.want, 0.04*c.want) {
				t.Errorf("%s: events sum %v, vial got %v mL, want %v", c.event, s, c.got, c.want)
			}
		}
		for _, e := range r.events.all() {
			if e.Event == contract.AddMedia && (e.SourceOfEvent == nil || *e.SourceOfEvent != "test") {
				t.Fatalf("source_of_event %v, want test", e.SourceOfEvent)
			}
		}
		if v, phi := r.bio(contract.CurrentVolumeML), r.bio(contract.AltMediaFraction); !near(v, 18, 1e-9) || !near(phi, 1.0/18, 1e-9) {
			t.Fatalf("bookkeeping: %v mL, alt fraction %v; want 18 mL and 1/18", v, phi)
		}
		if got := r.bio(contract.CumulativeMediaAddedML); !near(got, 2, 1e-9) {
			t.Fatalf("cumulative media %v", got)
		}
	})
}

// A dose stopped midway switches the pump off and corrects the published total, whichever
// way the stop comes.
func TestPumpActionStoppedMidway(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"state set", "state set on $experiment", "stop request", "broadcast"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				r.calibrateTruly()
				if err := r.startErr(contract.RemoveWaste, map[string]any{"ml": 2.0}); err != nil {
					t.Fatal(err)
				}
				// Fill first so the waste pump moves liquid, not air.
				time.Sleep(5250 * time.Millisecond)
				switch how {
				case "state set":
					r.set(contract.RemoveWaste, "$state", "disconnected")
				case "state set on $experiment", "broadcast":
					unit := "pio01"
					if how == "broadcast" {
						unit = contract.Broadcast
					}
					publish(t, r.simRig, contract.SetTopic(unit, contract.UniversalExp, contract.RemoveWaste, contract.StateAttr), "disconnected")
				case "stop request":
					if n, err := r.sup.StopJobs(context.Background(), contract.StopFilter{JobName: contract.RemoveWaste}); n != 1 || err != nil {
						t.Fatalf("StopJobs = %d, %v", n, err)
					}
				}
				time.Sleep(2 * time.Second)
				flow := r.plant.Truth().PumpFlowMLPerS["4"]
				vols := r.events.volumes(contract.RemoveWaste)
				if len(vols) < 2 || vols[len(vols)-1] >= 0 {
					t.Fatalf("events %v: want a negative correction last", vols)
				}
				if s := r.events.sum(contract.RemoveWaste); !near(s, flow*5.25, 1e-6) {
					t.Fatalf("published %v mL, want %v (5.25 s at %v mL/s)", s, flow*5.25, flow)
				}
				if st := r.retained(contract.RemoveWaste, "$state"); st != "disconnected" {
					t.Fatalf("state %q", st)
				}
				if dc := r.retainedTopic(contract.Topic("pio01", "exp", "pwms", "dc")); dc != "{}" {
					t.Fatalf("pwms/dc %s: a pump is still on", dc)
				}
			})
		})
	}
}

// Bad requests are refused before anything moves or is published, and the unit keeps working.
func TestDosingRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		job       string
		options   map[string]any
		calibrate bool
		volume    float64 // bookkeeping's current volume before the start; 0 = default
		want      string
	}{
		{"ml without calibration", contract.AddMedia, map[string]any{"ml": 1.0}, false, 0, "no calibration"},
		{"waste ml without calibration", contract.RemoveWaste, map[string]any{"ml": 1.0}, false, 0, "no calibration"},
		{"continuous inflow without calibration", contract.AddAltMedia, map[string]any{"continuously": true}, false, 0, "no calibration"},
		{"negative ml", contract.AddMedia, map[string]any{"ml": -1.0}, true, 0, "invalid volume"},
		{"NaN ml", contract.AddMedia, map[string]any{"ml": "NaN"}, true, 0, "invalid volume"},
		{"infinite ml", contract.AddMedia, map[string]any{"ml": "inf"}, true, 0, "invalid volume"},
		{"negative duration", contract.RemoveWaste, map[string]any{"duration": -2.0}, true, 0, "invalid duration"},
		// Durations that used to overflow time.Duration into "run constantly", and volumes
		// that used to enter the book as 9e306 mL.
		{"waste duration 1e308", contract.RemoveWaste, map[string]any{"duration": 1e308}, true, 0, "invalid duration"},
		{"waste duration a year and a day", contract.RemoveWaste, map[string]any{"duration": 366 * 24 * 3600.0}, true, 0, "invalid duration"},
		{"waste ml 1e308", contract.RemoveWaste, map[string]any{"ml": 1e308}, true, 0, "invalid volume"},
		{"media ml 1e308", contract.AddMedia, map[string]any{"ml": 1e308}, true, 0, "invalid volume"},
		{"circulate duration 1e308", "circulate_media", map[string]any{"duration": 1e308}, true, 0, "invalid duration"},
		{"chemostat duration 1e308", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": 1e308}, true, 0, "invalid duration"},
		{"chemostat duration 1e-320", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": 1e-320}, true, 0, "invalid duration"},
		{"fed_batch duration NaN", dosingJobName, map[string]any{"automation_name": "fed_batch", "dosing_volume_ml": 0.5, "duration": "NaN"}, true, 0, "duration"},
		{"od_reading interval 1e308", odReadingJobName, map[string]any{"interval": 1e308}, true, 0, "invalid duration"},
		{"od_reading interval 1e-320", odReadingJobName, map[string]any{"interval": 1e-320}, true, 0, "invalid duration"},
		{"od_reading interval 0.4 s", odReadingJobName, map[string]any{"interval": 0.4}, true, 0, "invalid duration"},
		{"ml not a number", contract.AddMedia, map[string]any{"ml": "lots"}, true, 0, "not a number"},
		{"two modes", contract.AddMedia, map[string]any{"ml": 1.0, "duration": 2.0}, true, 0, "exactly one"},
		{"no mode", contract.AddMedia, nil, true, 0, "exactly one"},
		{"overflow", contract.AddMedia, map[string]any{"ml": 1.0}, true, 35.5, "safety threshold"},
		{"overflow by duration", contract.AddAltMedia, map[string]any{"duration": 20.0}, true, 35, "safety threshold"},
		{"continuous inflow when full", contract.AddMedia, map[string]any{"continuously": true}, true, 36, "safety threshold"},
		{"circulate without duration", "circulate_media", nil, true, 0, "duration"},
		{"unknown automation", dosingJobName, map[string]any{"automation_name": "morbidostat9000"}, true, 0, "unknown automation"},
		{"no automation name", dosingJobName, nil, true, 0, "automation_name"},
		{"automation without calibration", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5}, false, 0, "no calibration"},
		{"chemostat negative exchange", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": -0.5}, true, 0, "invalid volume"},
		{"chemostat without exchange", dosingJobName, map[string]any{"automation_name": "chemostat"}, true, 0, "exchange_volume_ml is required"},
		{"chemostat duration 0", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": "0"}, true, 0, "duration"},
		{"chemostat duration -0.1", dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": "-0.1"}, true, 0, "duration"},
		{"turbidostat without target", dosingJobName, map[string]any{"automation_name": "turbidostat", "exchange_volume_ml": 1.0}, true, 0, "Provide a target biomass."},
		{"turbidostat bad signal", dosingJobName, map[string]any{"automation_name": "turbidostat", "exchange_volume_ml": 1.0, "target_biomass": 1.0, "biomass_signal": "magic"}, true, 0, "biomass_signal"},
		{"fed_batch without volume", dosingJobName, map[string]any{"automation_name": "fed_batch"}, true, 0, "dosing_volume_ml is required"},
		{"morbidostat without targets", dosingJobName, map[string]any{"automation_name": "pid_morbidostat"}, true, 0, "target_normalized_od is required"},
		{"start volume above capacity", dosingJobName, map[string]any{"automation_name": "silent", "current_volume_ml": 50.0}, true, 0, "current_volume_ml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				if tc.calibrate {
					r.calibrate(calibration.MediaPump, 1)
					r.calibrate(calibration.AltMediaPump, 1)
					r.calibrate(calibration.WastePump, 1)
				}
				if tc.volume > 0 {
					if _, _, err := r.dosing.Bioreactor.Update("exp", r.conf, map[string]float64{contract.CurrentVolumeML: tc.volume}); err != nil {
						t.Fatal(err)
					}
				}
				err := r.startErr(tc.job, tc.options)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("start %s %v: err %v, want one containing %q", tc.job, tc.options, err, tc.want)
				}
				time.Sleep(30 * time.Second)
				truth := r.plant.Truth()
				if n := len(r.events.all()); n > 0 || truth.MediaML+truth.AltMediaML+truth.WasteML > 0 {
					t.Fatalf("refused start moved liquid: %d events, truth %+v", n, truth)
				}
				if st := r.retained(tc.job, "$state"); st != "" {
					t.Fatalf("refused start published state %q", st)
				}
				// The unit is not disturbed: a valid dose still works.
				r.calibrate(calibration.WastePump, 1)
				if err := r.startErr(contract.RemoveWaste, map[string]any{"ml": 0.5}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Second)
				if got := r.events.volumes(contract.RemoveWaste); !approxSlice(got, []float64{0.5}, 1e-9) {
					t.Fatalf("dose after refusals: events %v", got)
				}
			})
		})
	}
}

// Duration doses and continuous waste are allowed without calibration (the default curve).
func TestPumpDefaultCalibration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		if err := r.startErr(contract.AddMedia, map[string]any{"duration": 2.0}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if s := r.events.sum(contract.AddMedia); !near(s, 0.1822, 1e-9) {
			t.Fatalf("default curve: 2 s published %v mL, want 0.1822", s)
		}
		if err := r.startErr(contract.RemoveWaste, map[string]any{"continuously": true}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2200 * time.Millisecond)
		r.set(contract.RemoveWaste, "$state", "disconnected")
		time.Sleep(time.Second)
		got := r.events.volumes(contract.RemoveWaste)
		if len(got) != 6 || !near(r.events.sum(contract.RemoveWaste), 0.0911*2.2, 1e-9) {
			t.Fatalf("continuous waste for 2.2 s: events %v", got)
		}
	})
}

// Continuous inflow stops when the bookkeeping reaches the maximum fill volume.
func TestPumpContinuousStopsAtMaxFill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrate(calibration.MediaPump, 1)
		if _, _, err := r.dosing.Bioreactor.Update("exp", r.conf, map[string]float64{contract.CurrentVolumeML: 34.6}); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(contract.AddMedia, map[string]any{"continuously": true}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if got := r.events.volumes(contract.AddMedia); !approxSlice(got, []float64{0.5, 0.5, 0.5, 0}, 1e-9) {
			t.Fatalf("events %v, want [0.5 0.5 0.5 0]", got)
		}
		if v := r.bio(contract.CurrentVolumeML); !near(v, 36.1, 1e-9) {
			t.Fatalf("volume %v", v)
		}
	})
}

// The projection ignores calibration runs and survives bad messages.
func TestBioreactorProjection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		ev := func(event string, ml float64, source string) string {
			return string(contract.Marshal(contract.DosingEvent{VolumeChange: contract.Decimal(ml), Event: event, SourceOfEvent: &source, Timestamp: contract.Timestamp(time.Now())}))
		}
		topic := contract.DosingEventsTopic("pio01", "exp")
		for _, p := range []string{
			ev(contract.AddAltMedia, 1.5, "CLI"),
			ev(contract.AddMedia, 5, contract.SourcePumpCalibration),
			"{not json",
			ev("drain", 1, "CLI"),
			ev(contract.AddMedia, 30, "CLI"), // above capacity: refused
			ev(contract.AddMedia, 0.5, "CLI"),
		} {
			publish(t, r.simRig, topic, p)
		}
		time.Sleep(time.Second)
		for v, want := range map[string]float64{contract.CurrentVolumeML: 17, contract.AltMediaFraction: 1.5 / 16.5 * 16.5 / 17,
			contract.CumulativeMediaAddedML: 0.5, contract.CumulativeAltMediaAddedML: 1.5, contract.CumulativeWasteRemovedML: 0} {
			if got := r.bio(v); !near(got, want, 1e-9) {
				t.Errorf("%s = %v, want %v", v, got, want)
			}
		}
		if st := r.retainedAt(contract.UniversalExp, BioreactorJobName, "$state"); st != "ready" {
			t.Fatalf("projection state %q after bad messages", st)
		}
	})
}

func publish(t *testing.T, r *simRig, topic, payload string) {
	t.Helper()
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), topic, []byte(payload), pubsub.AtLeastOnce, false); err != nil {
		t.Fatal(err)
	}
}

// Circulation: one drain event, waste running throughout, media in pulses of ≤ 0.85 s.
func TestCirculateMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateTruly()
		if err := r.startErr("circulate_media", map[string]any{"duration": 1.2}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		truth := r.plant.Truth()
		flow := truth.PumpFlowMLPerS["2"]
		if got := r.events.all(); len(got) != 1 || got[0].Event != contract.RemoveWaste || float64(got[0].VolumeChange) != 20 {
			t.Fatalf("events %+v, want one remove_waste of 20", got)
		}
		if !near(truth.MediaML, 1.2*flow, 0.04*flow) {
			t.Fatalf("media %v mL, want 1.2 s at %v mL/s", truth.MediaML, flow)
		}
		if truth.VolumeML > 15+1.2*flow || truth.OverflowML > 0 {
			t.Fatalf("volume %v mL after circulation", truth.VolumeML)
		}
		// A running waste pump and a circulation exclude each other.
		if err := r.startErr(contract.RemoveWaste, map[string]any{"duration": 30.0}); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr("circulate_media", map[string]any{"duration": 5.0}); !errors.Is(err, ErrPumpInUse) {
			t.Fatalf("circulation with the waste pump busy: %v", err)
		}
		time.Sleep(time.Second)
		if st := r.retained("circulate_media", "$state"); st != "disconnected" {
			t.Fatalf("circulation with the waste pump busy: state %q", st)
		}
		if m := r.plant.Truth().MediaML; !near(m, truth.MediaML, 1e-9) {
			t.Fatalf("media moved while the waste pump was busy: %v -> %v", truth.MediaML, m)
		}
	})
}

// A finite run moves its duration's worth of liquid however late the job wakes: on the
// simulated board the plant switches the pump off at the exact instant (hal.PWMTimer), as a
// real pump is switched off milliseconds late. At 3600× speed a millisecond of scheduler
// latency is 3.6 s of virtual time; a run stopped on that wake-up moved up to 7 s too long.
func TestPumpRunExactWhenLate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		late    time.Duration // mean lateness of every wake-up
		options map[string]any
	}{
		{"1 mL on time", 0, map[string]any{"ml": 1.0}},
		{"1 mL, wake-ups 1 s late", time.Second, map[string]any{"ml": 1.0}},
		{"1 mL, wake-ups 3.6 s late", 3600 * time.Millisecond, map[string]any{"ml": 1.0}},
		{"duration 2 s, wake-ups 3.6 s late", 3600 * time.Millisecond, map[string]any{"duration": 2.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := sim.DefaultParams()
				p.PumpDoseJitterSD = 0 // the dose moves exactly what the calibration says
				d, err := NewDosing(filepath.Join(t.TempDir(), "calibrations"), "", nil)
				if err != nil {
					t.Fatal(err)
				}
				r := &dosingRig{simRig: newRig(t, rigConfig{specs: []supervisor.Spec{NewAddMediaSpec(d)}, params: &p,
					clock: clocktest.NewLate(clock.Real{}, tc.late, 1)}), dosing: d, events: &eventLog{}}
				defer r.close()
				obs, err := r.bus.Dial(context.Background(), pubsub.Options{ClientID: "dosing-observer"})
				if err != nil {
					t.Fatal(err)
				}
				defer obs.Close()
				if err := obs.Subscribe(context.Background(), contract.DosingEventsFilter("pio01"), pubsub.ExactlyOnce, func(m pubsub.Message) {
					var e contract.DosingEvent
					if json.Unmarshal(m.Payload, &e) == nil {
						r.events.mu.Lock()
						r.events.events = append(r.events.events, e)
						r.events.mu.Unlock()
					}
				}); err != nil {
					t.Fatal(err)
				}
				flow := r.plant.Truth().PumpFlowMLPerS["2"]
				r.calibrate(calibration.MediaPump, flow)
				want := 1.0
				if s, ok := tc.options["duration"].(float64); ok {
					want = flow * s
				}
				r.start(contract.AddMedia, tc.options)
				time.Sleep(time.Minute)
				if got := r.plant.Truth().MediaML; math.Abs(got-want) > 0.01*want {
					t.Fatalf("moved %.4f mL, want %.4f mL ± 1 %%", got, want)
				}
				if got := r.events.sum(contract.AddMedia); math.Abs(got-want) > 1e-9 {
					t.Fatalf("dosing events sum to %.4f mL, want %.4f mL", got, want)
				}
			})
		})
	}
}
