package jobs

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

func mediaParams() sim.Params {
	p := sim.DefaultParams()
	p.InitialOD = 0
	return p
}

// od_blank on a vial of media: it stirs, publishes the per-channel means retained on
// od_blank/means, stores them, and od_reading then reads about 0 on the same vial.
func TestODBlankMeasuresAndIsSubtracted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, mediaParams(), "")
		defer r.close()
		r.start("od_blank", map[string]any{"n_samples": 10.0})
		time.Sleep(20 * time.Second)
		if rpm := r.plant.Truth().RPM; math.Abs(rpm-500) > 60 {
			t.Fatalf("stirring at %v RPM during the blank, want ≈ 500", rpm)
		}
		waitDisconnected(t, r, "od_blank")
		time.Sleep(5 * time.Second) // the bar coasts to a stop
		if rpm := r.plant.Truth().RPM; rpm > 1 {
			t.Fatalf("stirring left at %v RPM after the blank", rpm)
		}
		var means map[string]float64
		if err := json.Unmarshal([]byte(r.retained("od_blank", "means")), &means); err != nil {
			t.Fatalf("od_blank/means %q: %v", r.retained("od_blank", "means"), err)
		}
		if len(means) != 1 || !(means["2"] > 0.015 && means["2"] < 0.035) {
			t.Fatalf("means %v, want channel 2 ≈ 0.024 (blank scatter at 80 %% IR)", means)
		}
		var stored map[string]float64
		if ok, err := (unitCache{dir: r.cacheDir}).get(cacheODBlank, "exp", &stored); !ok || err != nil || stored["2"] != means["2"] {
			t.Fatalf("stored blank %v (%v, %v)", stored, ok, err)
		}
		r.start("od_reading", nil)
		time.Sleep(time.Minute)
		if od := odOf(t, r.retained("od_reading", "od2")); math.Abs(od) > 0.002 {
			t.Fatalf("blanked od2 of the media vial %v, want ≈ 0", od)
		}

		// od_reading runs: a blank now would read the LEDs od_reading drives.
		err := r.startErr("od_blank", nil)
		if err == nil || !strings.Contains(err.Error(), "OD Reading should be off") {
			t.Fatalf("od_blank beside od_reading: %v", err)
		}
		r.set("od_reading", "$state", "disconnected")
		time.Sleep(time.Second)

		r.start("od_blank", map[string]any{"delete": true})
		waitDisconnected(t, r, "od_blank")
		if got := r.retained("od_blank", "means"); got != "" {
			t.Fatalf("means %q after delete", got)
		}
		if ok, _ := (unitCache{dir: r.cacheDir}).get(cacheODBlank, "exp", &stored); ok {
			t.Fatal("blank still stored after delete")
		}
	})
}

// A stop request (unit or $experiment) ends the blank without storing anything.
func TestODBlankStopsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, mediaParams(), "")
		defer r.close()
		r.start("od_blank", nil)
		time.Sleep(10 * time.Second)
		r.publish(contract.SetTopic("pio01", contract.UniversalExp, "od_blank", contract.StateAttr), "disconnected", false)
		waitDisconnected(t, r, "od_blank")
		if got := r.retained("od_blank", "means"); got != "" {
			t.Fatalf("means %q after an early stop", got)
		}
		var stored map[string]float64
		if ok, _ := (unitCache{dir: r.cacheDir}).get(cacheODBlank, "exp", &stored); ok {
			t.Fatalf("blank %v stored after an early stop", stored)
		}
	})
}

func TestODBlankRefusesBadOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, mediaParams(), "")
		defer r.close()
		for _, o := range []map[string]any{{"n_samples": 4.0}, {"n_samples": 12.5}, {"n_samples": "many"}, {"ir_led_intensity": 120.0}} {
			if err := r.startErr("od_blank", o); err == nil {
				t.Errorf("options %v accepted", o)
			}
		}
		if st := r.retained("od_blank", "$state"); st != "" {
			t.Fatalf("a refused start published state %q", st)
		}
	})
}
