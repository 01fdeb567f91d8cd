package store_test

import (
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// simulation_truth reads back column by column, for exports and the generic chart route.
func TestSimulationTruthColumns(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	row := store.Row{Table: store.SimulationTruth, Experiment: "exp1", Unit: "pio01", Time: t0,
		Truth: [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125}}
	mustInsert(t, db, []store.Row{row})
	got := readAll(t, db, store.Query{Table: store.SimulationTruth, Experiments: []string{"exp1"}})
	if len(got) != 1 {
		t.Fatalf("%d rows, want 1", len(got))
	}
	want := map[string]float64{"od": 0.42, "growth_rate_per_hour": 0.61, "liquid_temperature_c": 30.02,
		"heater_pcb_temperature_c": 41.5, "volume_ml": 15, "rpm": 498.7, "alt_media_fraction": 0.125}
	var names []string
	for _, c := range store.SimulationTruth.Columns() {
		names = append(names, c.Name)
		f, _ := got[0].FieldByName(c.Name)
		if w, ok := want[c.Name]; ok && (f.Kind != store.Real || f.F != w) {
			t.Errorf("%s = %+v, want %v", c.Name, f, w)
		}
	}
	if len(names) != 3+len(want) || names[2] != "timestamp" {
		t.Errorf("columns %v", names)
	}
}
