package export_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

// The simulation truth exports one column per true value, in the payload's units.
func TestSimulationTruthExports(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	insert(t, db, store.Row{Table: store.SimulationTruth, Unit: "pio01", Time: t0,
		Truth: [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125}})
	f, names, m := run(t, db, export.Request{Datasets: []string{"simulation_truth"}})
	if len(m.Datasets) != 1 || m.Datasets[0].RowCount != 1 {
		t.Fatalf("manifest %+v", m.Datasets)
	}
	var path string
	for _, n := range names {
		if strings.HasPrefix(n, "simulation_truth/") && strings.HasSuffix(n, ".csv") {
			path = n
		}
	}
	recs := readCSV(t, f[path])
	if len(recs) != 2 {
		t.Fatalf("%s: %v", path, recs)
	}
	col := func(name string) string {
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, recs[0])
		}
		return recs[1][i]
	}
	for name, want := range map[string]string{"od": "0.42", "growth_rate_per_hour": "0.61", "liquid_temperature_c": "30.02",
		"heater_pcb_temperature_c": "41.5", "volume_ml": "15.0", "rpm": "498.7", "alt_media_fraction": "0.125",
		"pioreactor_unit": "pio01", "timestamp": "2026-03-01T12:00:00.000Z"} {
		if got := col(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	d, ok := export.Lookup("simulation_truth")
	if !ok || d.Descriptor().ColumnUnits["liquid_temperature_c"] != "°C" || d.Descriptor().ColumnDescriptions["od"] == "" {
		t.Errorf("descriptor %+v", d.Descriptor())
	}
}
