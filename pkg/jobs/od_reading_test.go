package jobs

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

type odsPayload struct {
	Timestamp string `json:"timestamp"`
	ODs       map[string]struct {
		OD      float64 `json:"od"`
		Angle   string  `json:"angle"`
		Channel string  `json:"channel"`
	} `json:"ods"`
}

func readODs(t *testing.T, r *simRig) odsPayload {
	t.Helper()
	var p odsPayload
	if err := json.Unmarshal([]byte(r.retained("od_reading", "ods")), &p); err != nil {
		t.Fatalf("ods %q: %v", r.retained("od_reading", "ods"), err)
	}
	return p
}

// The published OD follows the simulated culture: it grows with it, and its ratio to the
// true OD stays about constant (the REF normalisation cancels LED drift).
func TestODReadingFollowsCulture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, sim.DefaultParams(), "")
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(time.Minute)
		first := readODs(t, r.simRig)
		ch, ok := first.ODs["2"]
		if !ok || ch.Angle != "90" || ch.Channel != "2" || len(first.ODs) != 1 {
			t.Fatalf("ods = %+v, want channel 2 at 90°", first)
		}
		if r.retained("od_reading", "od2") == "" || r.retained("od_reading", "interval") != "5.0" {
			t.Fatalf("od2 %q, interval %q", r.retained("od_reading", "od2"), r.retained("od_reading", "interval"))
		}
		x0 := r.plant.Truth().OD
		time.Sleep(3 * time.Hour)
		later := readODs(t, r.simRig)
		x1 := r.plant.Truth().OD
		if !(later.ODs["2"].OD > 1.5*ch.OD) || !(x1 > 1.5*x0) {
			t.Fatalf("culture grew %v -> %v but OD went %v -> %v", x0, x1, ch.OD, later.ODs["2"].OD)
		}
	})
}

func TestODReadingIntervalIsSettable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSimRig(t, NewODReadingSpec(ODDeps{}))
		defer r.close()
		r.start("od_reading", map[string]any{"interval": 2.0})
		time.Sleep(10 * time.Second)
		r.set("od_reading", "interval", "10")
		time.Sleep(3 * time.Second) // a reading in progress finishes first
		if got := r.retained("od_reading", "interval"); got != "10.0" {
			t.Fatalf("interval %q", got)
		}
		t1 := readODs(t, r).Timestamp
		time.Sleep(10 * time.Second)
		t2 := readODs(t, r).Timestamp
		a, _ := time.Parse(time.RFC3339, t1)
		b, _ := time.Parse(time.RFC3339, t2)
		if d := b.Sub(a); d < 9*time.Second || d > 11*time.Second {
			t.Fatalf("readings %v apart after interval=10", d)
		}
	})
}
