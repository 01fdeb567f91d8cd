package ingest_test

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// A simulation truth is stored whole or not at all: every value is required.
func TestSimulationTruthNeedsEveryValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		good := `{"timestamp":"` + ts + `","od":0.42,"growth_rate_per_hour":0.61,"liquid_temperature_c":30.02,` +
			`"heater_pcb_temperature_c":41.5,"volume_ml":15.0,"rpm":498.7,"alt_media_fraction":0.125}`
		bad := []string{
			strings.Replace(good, `"rpm":498.7,`, ``, 1),
			strings.Replace(good, `"od":0.42`, `"od":"high"`, 1),
			strings.Replace(good, `"timestamp":"`+ts+`",`, ``, 1),
		}
		for _, p := range bad {
			r.publish(topic("simulation", "truth"), p)
		}
		r.publish(topic("simulation", "truth"), good)
		r.settle()
		if st := r.in.Stats(); st.Malformed != int64(len(bad)) || st.Inserted != 1 {
			t.Errorf("stats = %+v, want %d malformed and 1 inserted", st, len(bad))
		}
		if !ingest.Stored(topic("simulation", "truth")) || !ingest.Timestamped(topic("simulation", "truth")) {
			t.Error("the truth topic is not a stored, timestamped topic: a worker's outbox would not keep it")
		}
		rows := r.rows(store.SimulationTruth)
		if len(rows) != 1 || rows[0].Truth != [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125} {
			t.Errorf("rows = %+v", rows)
		}
	})
}
