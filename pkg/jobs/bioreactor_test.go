package jobs

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

type dosingStep struct {
	event string
	ml    float64
}

// The worked examples of docs/algorithms.md, "Bioreactor bookkeeping" and docs/jobs.md, "Bioreactor bookkeeping".
func TestBioreactorApply(t *testing.T) {
	t.Parallel()
	media := func(v float64) dosingStep { return dosingStep{contract.AddMedia, v} }
	alt := func(v float64) dosingStep { return dosingStep{contract.AddAltMedia, v} }
	waste := func(v float64) dosingStep { return dosingStep{contract.RemoveWaste, v} }
	for _, tc := range []struct {
		name       string
		start      BioreactorValues
		steps      []dosingStep
		wantVolume []float64
		wantPhi    float64
	}{
		{"efflux walk (V_e = 14)", BioreactorValues{EffluxTubeVolumeML: 14},
			[]dosingStep{media(6), waste(2), alt(6), alt(3), waste(3), alt(2), waste(1), waste(10)},
			[]float64{6, 6, 12, 15, 14, 16, 15, 14}, math.NaN()},
		{"negative add corrections floor at 0", BioreactorValues{EffluxTubeVolumeML: 14},
			[]dosingStep{media(6), media(-3), media(-3), media(-3)}, []float64{6, 3, 0, 0}, 0},
		{"+6 alt then -3 alt is +3 alt", BioreactorValues{EffluxTubeVolumeML: 14},
			[]dosingStep{alt(6), alt(-3)}, []float64{6, 3}, 1},
		{"defaults plus 1.5 alt", BioreactorValues{CurrentVolumeML: 14, EffluxTubeVolumeML: 14},
			[]dosingStep{alt(1.5)}, []float64{15.5}, 1.5 / 15.5},
		{"two sub-doses of media 1.25 + alt 0.01 + waste 1.26", BioreactorValues{CurrentVolumeML: 14, EffluxTubeVolumeML: 14},
			[]dosingStep{media(0.625), alt(0.005), waste(0.63), waste(1.26), media(0.625), alt(0.005), waste(0.63), waste(1.26)},
			[]float64{14.625, 14.63, 14, 14, 14.625, 14.63, 14, 14}, 0.0006688099108144436},
		{"from 10 mL at 50 % with efflux 15", BioreactorValues{CurrentVolumeML: 10, EffluxTubeVolumeML: 15, AltMediaFraction: 0.5},
			[]dosingStep{media(1), waste(1)}, []float64{11, 11}, 5.0 / 11},
		{"custom add_ media leaves the fraction", BioreactorValues{CurrentVolumeML: 10, EffluxTubeVolumeML: 15, AltMediaFraction: 0.5},
			[]dosingStep{{"add_salty_media", 2}}, []float64{12}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.start
			for i, s := range tc.steps {
				var err error
				if v, err = v.Apply(s.event, s.ml, Vessel40ml); err != nil {
					t.Fatalf("step %d %v: %v", i, s, err)
				}
				if math.Abs(v.CurrentVolumeML-tc.wantVolume[i]) > 1e-9 {
					t.Fatalf("step %d %v: volume %v, want %v", i, s, v.CurrentVolumeML, tc.wantVolume[i])
				}
			}
			if !math.IsNaN(tc.wantPhi) && math.Abs(v.AltMediaFraction-tc.wantPhi) > 1e-15 {
				t.Fatalf("alt-media fraction %v, want %v", v.AltMediaFraction, tc.wantPhi)
			}
		})
	}
}

func TestBioreactorApplyCumulatives(t *testing.T) {
	t.Parallel()
	v := BioreactorValues{EffluxTubeVolumeML: 14}
	for _, s := range []dosingStep{{contract.AddMedia, 0.5}, {contract.AddMedia, 0.5}, {contract.AddAltMedia, 2}, {contract.RemoveWaste, 1}, {contract.AddAltMedia, -3}} {
		var err error
		if v, err = v.Apply(s.event, s.ml, Vessel40ml); err != nil {
			t.Fatal(err)
		}
	}
	if v.CumulativeMediaAddedML != 1 || v.CumulativeAltMediaAddedML != 0 || v.CumulativeWasteRemovedML != 1 {
		t.Fatalf("cumulatives %+v", v)
	}
}

func TestBioreactorApplyRefuses(t *testing.T) {
	t.Parallel()
	start := BioreactorValues{CurrentVolumeML: 39, EffluxTubeVolumeML: 15}
	for _, tc := range []struct {
		name, event string
		ml          float64
		want        string
	}{
		{"above capacity", contract.AddMedia, 2, "above the vessel's 40 mL"},
		{"unknown event", "drain", 1, `unknown dosing event "drain"`},
		{"NaN volume", contract.AddMedia, math.NaN(), "volume NaN"},
		{"9e306 mL of waste", contract.RemoveWaste, 9.1e306, "invalid volume"},
		{"a hundred litres of waste", contract.RemoveWaste, 1e5, "invalid volume"},
		{"a correction of -1e308 mL", contract.AddMedia, -1e308, "invalid volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := start.Apply(tc.event, tc.ml, Vessel40ml)
			if err == nil || !strings.Contains(err.Error(), tc.want) || got != start {
				t.Fatalf("Apply = %+v, %v; want unchanged and an error with %q", got, err, tc.want)
			}
		})
	}
}

func TestBioreactorBook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := config.LoadDefault()
	b := NewBioreactor(dir, nil)
	v, err := b.Values("exp", conf)
	if err != nil || v.CurrentVolumeML != 15 || v.EffluxTubeVolumeML != 15 {
		t.Fatalf("defaults %+v, %v", v, err)
	}
	if _, err := b.Apply("exp", conf, contract.AddMedia, 1.5); err != nil {
		t.Fatal(err)
	}
	if v, _ := NewBioreactor(dir, nil).Values("exp", conf); v.CurrentVolumeML != 15 {
		t.Fatalf("Apply wrote through before Flush: %+v", v)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	// Out-of-range updates name the variable and change nothing.
	for _, bad := range []map[string]float64{{contract.EffluxTubeVolumeML: 100}, {contract.AltMediaFraction: 1.5}, {"volume": 3}, {contract.CurrentVolumeML: -1}} {
		if _, _, err := b.Update("exp", conf, bad); err == nil {
			t.Errorf("update %v accepted", bad)
		}
	}
	// A new book on the same cache sees the persisted values.
	v, err = NewBioreactor(dir, nil).Values("exp", conf)
	if err != nil || v.CurrentVolumeML != 16.5 || v.CumulativeMediaAddedML != 1.5 {
		t.Fatalf("persisted %+v, %v", v, err)
	}
	if _, err := BioreactorDefaults(conf.With([][3]string{{"bioreactor", "initial_volume_ml", "50"}}), Vessel40ml); err == nil ||
		!strings.Contains(err.Error(), "current_volume_ml") {
		t.Fatalf("initial_volume_ml 50 in a 40 ml vessel: %v", err)
	}
}

// onDisk reads an experiment's book from the cache file itself, not from any memory.
func onDisk(t *testing.T, cacheDir, exp string) BioreactorValues {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cacheDir, cacheBioreactor+cacheNamespaceFileExt))
	if errors.Is(err, fs.ErrNotExist) {
		return BioreactorValues{}
	}
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]BioreactorValues
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("bioreactor cache %q: %v", b, err)
	}
	return m[exp]
}

// The book on disk is never behind the retained values: in the middle of a dose (a kill -9
// then would restart from the disk) and once the dose is done. It used to be saved only
// after the events paused for 5 s, so a worker killed during add_media restarted from 15 mL
// while the broker and the leader said 16.09.
func TestBioreactorBookSavedWithEachDose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateTruly()
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(contract.AddMedia, map[string]any{"ml": 5.0}); err != nil {
			t.Fatal(err)
		}
		check := func(when string) BioreactorValues {
			synctest.Wait() // every event published so far is processed
			disk := onDisk(t, r.cacheDir, "exp")
			for _, name := range []string{contract.CurrentVolumeML, contract.CumulativeMediaAddedML} {
				got, _ := disk.Get(name)
				if want := r.bio(name); got != want {
					t.Fatalf("%s: %s = %v on disk, %v retained", when, name, got, want)
				}
			}
			return disk
		}
		time.Sleep(2 * time.Second)
		if mid := check("mid-dose"); !(mid.CumulativeMediaAddedML > 0 && mid.CumulativeMediaAddedML < 5) {
			t.Fatalf("mid-dose: %v mL added on disk, want part of the dose", mid.CumulativeMediaAddedML)
		}
		for r.retained(contract.AddMedia, "$state") != "disconnected" {
			time.Sleep(100 * time.Millisecond)
		}
		if done := check("after the dose"); !near(done.CurrentVolumeML, 20, 1e-9) || !near(done.CumulativeMediaAddedML, 5, 1e-9) {
			t.Fatalf("after the dose, on disk: %+v, want 20 mL with 5 mL added", done)
		}
	})
}
