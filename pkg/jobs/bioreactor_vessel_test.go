package jobs

import (
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

var vessel20ml = Vessel{CapacityML: 20, MaxFillML: 18}

// fixedVessel is a unit whose model is v.
func fixedVessel(v Vessel) func() Vessel { return func() Vessel { return v } }

// modelSwitch is a unit whose model the test changes, as the leader's push does.
type modelSwitch struct {
	mu sync.Mutex
	v  Vessel
}

func (m *modelSwitch) set(v Vessel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.v = v
}

func (m *modelSwitch) vessel() Vessel {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v
}

// The book's capacity is the unit's model's; an unknown model (nil, zero, nonsense) is 40 ml.
func TestBioreactorBookFollowsTheModel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		vessel func() Vessel
		volume float64 // current_volume_ml to set
		ok     bool
	}{
		{"20 ml takes 20 mL", fixedVessel(vessel20ml), 20, true},
		{"20 ml refuses 20.5 mL", fixedVessel(vessel20ml), 20.5, false},
		{"40 ml takes 20.5 mL", fixedVessel(Vessel40ml), 20.5, true},
		{"unknown takes 40 mL", nil, 40, true},
		{"unknown refuses 40.5 mL", nil, 40.5, false},
		{"zero vessel is 40 ml", fixedVessel(Vessel{}), 40, true},
		{"vessel without a max fill is 40 ml", fixedVessel(Vessel{CapacityML: 20}), 30, true},
		{"NaN capacity is 40 ml", fixedVessel(Vessel{CapacityML: math.NaN(), MaxFillML: 18}), 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBioreactor("", tc.vessel)
			_, _, err := b.Update("exp", config.LoadDefault(), map[string]float64{contract.CurrentVolumeML: tc.volume})
			if (err == nil) != tc.ok {
				t.Fatalf("current_volume_ml %v in %+v: err %v, want ok %v", tc.volume, b.Vessel(), err, tc.ok)
			}
		})
	}
	t.Run("a dose above a 20 ml capacity", func(t *testing.T) {
		t.Parallel()
		b := NewBioreactor("", fixedVessel(vessel20ml))
		conf := config.LoadDefault()
		if _, _, err := b.Update("exp", conf, map[string]float64{contract.CurrentVolumeML: 19}); err != nil {
			t.Fatal(err)
		}
		if v, err := b.Apply("exp", conf, contract.AddMedia, 1.5); err == nil || v.CurrentVolumeML != 19 {
			t.Fatalf("add_media 1.5 mL at 19 mL in 20 ml: %+v, %v", v, err)
		}
	})
	t.Run("a volume above a model learned later still goes down", func(t *testing.T) {
		t.Parallel()
		model := &modelSwitch{}
		b := NewBioreactor("", model.vessel)
		conf := config.LoadDefault()
		if _, _, err := b.Update("exp", conf, map[string]float64{contract.CurrentVolumeML: 30}); err != nil {
			t.Fatal(err)
		}
		model.set(vessel20ml)
		if v, err := b.Apply("exp", conf, contract.AddMedia, 0.5); err == nil || v.CurrentVolumeML != 30 {
			t.Fatalf("add_media at 30 mL in 20 ml: %+v, %v", v, err)
		}
		if v, err := b.Apply("exp", conf, contract.RemoveWaste, 5); err != nil || v.CurrentVolumeML != 25 {
			t.Fatalf("remove_waste 5 mL at 30 mL in 20 ml: %+v, %v", v, err)
		}
		if v, err := b.Apply("exp", conf, contract.AddMedia, -1); err != nil || v.CurrentVolumeML != 24 {
			t.Fatalf("a -1 mL correction at 25 mL in 20 ml: %+v, %v", v, err)
		}
	})
}

// A dose that would reach the model's maximum fill is refused before anything moves: 18 mL
// in a 20 ml unit, 36 mL in a 40 ml one (and in one of unknown model).
func TestDosingFollowsTheModel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		vessel  func() Vessel
		volume  float64 // the book's current_volume_ml before the start
		job     string
		options map[string]any
		want    string // "" accepted (a media dose moves what it asked)
	}{
		{"20 ml refuses add_media reaching 18 mL", fixedVessel(vessel20ml), 17.5, contract.AddMedia, map[string]any{"ml": 0.5}, "safety threshold"},
		{"20 ml accepts add_media below 18 mL", fixedVessel(vessel20ml), 17, contract.AddMedia, map[string]any{"ml": 0.5}, ""},
		{"40 ml accepts add_media reaching 18 mL", fixedVessel(Vessel40ml), 17.5, contract.AddMedia, map[string]any{"ml": 0.5}, ""},
		{"unknown model accepts add_media reaching 18 mL", nil, 17.5, contract.AddMedia, map[string]any{"ml": 0.5}, ""},
		{"20 ml refuses add_alt_media reaching 18 mL", fixedVessel(vessel20ml), 17, contract.AddAltMedia, map[string]any{"duration": 1.0}, "safety threshold"},
		{"20 ml refuses continuous inflow at 18 mL", fixedVessel(vessel20ml), 18, contract.AddMedia, map[string]any{"continuously": true}, "safety threshold"},
		{"20 ml automation refuses a start volume of 25 mL", fixedVessel(vessel20ml), 0, dosingJobName, map[string]any{"automation_name": "silent", "current_volume_ml": 25.0}, "current_volume_ml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRigIn(t, sim.DefaultParams(), tc.vessel)
				defer r.close()
				r.calibrate(calibration.MediaPump, 1)
				r.calibrate(calibration.AltMediaPump, 1)
				if tc.volume > 0 {
					if _, _, err := r.dosing.Bioreactor.Update("exp", r.conf, map[string]float64{contract.CurrentVolumeML: tc.volume}); err != nil {
						t.Fatal(err)
					}
				}
				err := r.startErr(tc.job, tc.options)
				time.Sleep(5 * time.Second)
				if tc.want != "" {
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("start %s %v: err %v, want one containing %q", tc.job, tc.options, err, tc.want)
					}
					if n := len(r.events.all()); n > 0 {
						t.Fatalf("refused start published %d events", n)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := r.events.volumes(contract.AddMedia); !approxSlice(got, []float64{0.5}, 1e-9) {
					t.Fatalf("events %v, want [0.5]", got)
				}
			})
		})
	}
}

// A model learned after the unit started (the leader's push) guards the next dose, with no
// restart of the unit or its book.
func TestDosingModelLearnedLater(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		model := &modelSwitch{}
		r := newDosingRigIn(t, sim.DefaultParams(), model.vessel)
		defer r.close()
		r.calibrate(calibration.MediaPump, 1)
		if _, _, err := r.dosing.Bioreactor.Update("exp", r.conf, map[string]float64{contract.CurrentVolumeML: 17.5}); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(contract.AddMedia, map[string]any{"ml": 0.5}); err != nil {
			t.Fatalf("unknown model: %v", err)
		}
		time.Sleep(5 * time.Second)
		model.set(vessel20ml)
		if err := r.startErr(contract.AddMedia, map[string]any{"ml": 0.5}); err == nil || !strings.Contains(err.Error(), "safety threshold") {
			t.Fatalf("after learning the 20 ml model: %v, want a refusal", err)
		}
		if _, _, err := r.dosing.Bioreactor.Update("exp", r.conf, map[string]float64{contract.CurrentVolumeML: 25}); err == nil {
			t.Fatal("25 mL accepted in a 20 ml vessel")
		}
		if got := r.events.volumes(contract.AddMedia); !approxSlice(got, []float64{0.5}, 1e-9) {
			t.Fatalf("events %v, want the first dose only", got)
		}
	})
}
