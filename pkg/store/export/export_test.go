package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

var (
	created = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// exportNow is when the test exports run; Berlin is UTC+1 in March.
	exportNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	berlin, _ = time.LoadLocation("Europe/Berlin")
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "export.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateExperiment(store.Experiment{Name: "exp1", CreatedAt: created, Description: "first, \"quoted\""}); err != nil {
		t.Fatal(err)
	}
	return db
}

func insert(t *testing.T, db *store.DB, rows ...store.Row) {
	t.Helper()
	for i := range rows {
		if rows[i].Experiment == "" {
			rows[i].Experiment = "exp1"
		}
	}
	st, err := db.Insert(rows)
	if err != nil || st.Invalid > 0 {
		t.Fatalf("Insert: %+v, %v", st, err)
	}
}

// files unzips an export into name -> content.
func files(t *testing.T, b []byte) (map[string][]byte, []string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = data
		names = append(names, f.Name)
	}
	return out, names
}

func run(t *testing.T, db *store.DB, req export.Request) (map[string][]byte, []string, export.Manifest) {
	t.Helper()
	if req.Experiment == "" {
		req.Experiment = "exp1"
	}
	req.Now, req.Location, req.Version = exportNow, berlin, "test"
	var buf bytes.Buffer
	m, err := export.Write(context.Background(), db, &buf, req, nil)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	f, names := files(t, buf.Bytes())
	return f, names, m
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, b)
	}
	return recs
}

func TestCSVColumnsAndValuesRoundTrip(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	at := t0.Add(1234 * time.Millisecond)
	insert(t, db,
		store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "2", Angle: 90, Time: at, Value: 0.1 + 0.2},
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "add_media", Value: 1e-05, Time: at},
		store.Row{Table: store.Logs, Unit: "pio01", Level: "INFO", Message: "a, \"quoted\"\nline", Task: "t", Source: "app", Time: at},
		store.Row{Table: store.DosingAutomationSettings, Unit: "pio01", Event: "chemostat", Data: "eyJ2b2x1bWUiOjEuMH0=", Time: at},
		store.Row{Table: store.PWMDCs, Unit: "pio01", PWM: [5]float64{500, 0, 0, 0, 1e16}, Time: at},
	)
	tests := []struct {
		dataset string
		header  []string
		row     []string
	}{
		{"od_readings", []string{"experiment", "pioreactor_unit", "timestamp", "od_reading", "angle", "channel", "timestamp_localtime", "hours_since_experiment_created"},
			[]string{"exp1", "pio01", "2026-03-01T12:00:01.234Z", "0.3", "90", "2", "2026-03-01 13:00:01.234", "2.000342777778"}},
		{"dosing_events", []string{"experiment", "pioreactor_unit", "timestamp", "event", "volume_change_ml", "source_of_event", "timestamp_localtime", "hours_since_experiment_created"},
			[]string{"exp1", "pio01", "2026-03-01T12:00:01.234Z", "add_media", "1e-05", "", "2026-03-01 13:00:01.234", "2.000342777778"}},
		{"logs", []string{"experiment", "pioreactor_unit", "timestamp", "message", "source", "level", "task", "timestamp_localtime", "hours_since_experiment_created"},
			[]string{"exp1", "pio01", "2026-03-01T12:00:01.234Z", "a, \"quoted\"\nline", "app", "INFO", "t", "2026-03-01 13:00:01.234", "2.000342777778"}},
		{"dosing_automation_settings", []string{"pioreactor_unit", "experiment", "started_at", "ended_at", "automation_name", "settings", "json_settings", "started_at_localtime", "ended_at_localtime", "hours_since_experiment_created"},
			[]string{"pio01", "exp1", "2026-03-01T12:00:01.234Z", "", "chemostat", "eyJ2b2x1bWUiOjEuMH0=", `{"volume":1.0}`, "2026-03-01 13:00:01.234", "", "2.000342777778"}},
		{"pwm_dcs", []string{"experiment", "pioreactor_unit", "timestamp", "channel_1", "channel_2", "channel_3", "channel_4", "channel_5", "timestamp_localtime", "hours_since_experiment_created"},
			[]string{"exp1", "pio01", "2026-03-01T12:00:01.234Z", "500.0", "0.0", "0.0", "0.0", "1e+16", "2026-03-01 13:00:01.234", "2.000342777778"}},
	}
	for _, tt := range tests {
		t.Run(tt.dataset, func(t *testing.T) {
			t.Parallel()
			f, _, m := run(t, db, export.Request{Datasets: []string{tt.dataset}})
			path := tt.dataset + "/" + tt.dataset + "-all_experiments-all_units-20260302100000.csv"
			recs := readCSV(t, f[path])
			if len(recs) != 2 {
				t.Fatalf("%s: %d records, want header + 1:\n%s", path, len(recs), f[path])
			}
			if !reflect.DeepEqual(recs[0], tt.header) {
				t.Errorf("header = %q\nwant     %q", recs[0], tt.header)
			}
			if !reflect.DeepEqual(recs[1], tt.row) {
				t.Errorf("row = %q\nwant  %q", recs[1], tt.row)
			}
			var schema struct {
				Columns []struct {
					Name      string `json:"name"`
					Generated bool   `json:"generated"`
				} `json:"columns"`
			}
			if err := json.Unmarshal(f[tt.dataset+"/schema.json"], &schema); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range schema.Columns {
				names = append(names, c.Name)
			}
			if !reflect.DeepEqual(names, tt.header) {
				t.Errorf("schema.json columns = %q, want the header", names)
			}
			if m.Datasets[0].RowCount != 1 || m.Datasets[0].CSVPaths[0] != path {
				t.Errorf("manifest = %+v", m.Datasets[0])
			}
		})
	}
}

func TestPartitionsBoundsAndManifest(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for i := range 6 {
		for _, u := range []string{"pio02", "pio01"} {
			insert(t, db, store.Row{Table: store.GrowthRates, Unit: u, Time: t0.Add(time.Duration(i) * time.Minute), Value: float64(i)})
		}
	}
	insert(t, db, store.Row{Table: store.GrowthRates, Experiment: "other", Unit: "pio01", Time: t0, Value: 9})
	f, names, m := run(t, db, export.Request{Datasets: []string{"growth_rates", "nope", "stirring_rates"},
		PartitionByUnit: true, PartitionByExperiment: true, Start: t0.Add(time.Minute), End: t0.Add(3 * time.Minute)})
	want := []string{"growth_rates/", "growth_rates/schema.json",
		"growth_rates/growth_rates-exp1-pio01-20260302100000.csv", "growth_rates/growth_rates-exp1-pio02-20260302100000.csv",
		"stirring_rates/", "stirring_rates/schema.json", "manifest.json"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("zip entries = %q\nwant %q", names, want)
	}
	recs := readCSV(t, f["growth_rates/growth_rates-exp1-pio01-20260302100000.csv"])
	var values []string
	for _, r := range recs[1:] {
		values = append(values, r[3])
	}
	if !reflect.DeepEqual(values, []string{"1.0", "2.0", "3.0"}) {
		t.Errorf("bounded rows = %v, want minutes 1..3 inclusive", values)
	}
	var manifest map[string]any
	if err := json.Unmarshal(f["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest["export_created_at"] != "2026-03-02T10:00:00.000000+01:00" {
		t.Errorf("export_created_at = %v", manifest["export_created_at"])
	}
	gr := m.Datasets[0]
	if gr.RowCount != 6 || len(gr.CSVFiles) != 2 || gr.CSVFiles[1].RowCount != 3 ||
		!reflect.DeepEqual(gr.PartitionValues["pioreactor_units"], []string{"pio01", "pio02"}) ||
		gr.CSVFiles[0].Partition["pioreactor_unit"] != "pio01" {
		t.Errorf("manifest dataset = %+v", gr)
	}
	if len(m.Warnings) != 2 {
		t.Errorf("warnings = %q, want the unknown and the empty dataset", m.Warnings)
	}
	// units filter (our addition)
	f, _, _ = run(t, db, export.Request{Datasets: []string{"growth_rates"}, Units: []string{"pio02"}})
	recs = readCSV(t, f["growth_rates/growth_rates-all_experiments-all_units-20260302100000.csv"])
	if len(recs) != 7 || recs[1][1] != "pio02" {
		t.Errorf("units filter: %d records, first %q", len(recs), recs[1])
	}
}

func TestActivityDataAndRollup(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	a, b := t0, t0.Add(30*time.Second)
	insert(t, db,
		store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "1", Angle: 90, Time: a, Value: 0.1},
		store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "2", Angle: 135, Time: a, Value: 0.2},
		store.Row{Table: store.LEDChangeEvents, Unit: "pio01", Channel: "A", Time: a, Value: 10},
		store.Row{Table: store.LEDChangeEvents, Unit: "pio01", Channel: "B", Time: a, Value: 20},
		store.Row{Table: store.GrowthRates, Unit: "pio01", Time: b, Value: 0.5},
		store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "1", Angle: 90, Time: b, Value: 0.3},
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "remove_waste", Time: b, Value: -1},
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "add_media", Time: b, Value: 1},
		store.Row{Table: store.TemperatureReadings, Unit: "pio02", Time: a, Value: 30},
	)
	f, _, _ := run(t, db, export.Request{Datasets: []string{"pioreactor_unit_activity_data", "pioreactor_unit_activity_data_rollup"}})
	p1 := readCSV(t, f["pioreactor_unit_activity_data/pioreactor_unit_activity_data-all_experiments-pio01-20260302100000.csv"])
	wantHeader := []string{"experiment", "pioreactor_unit", "timestamp", "od_reading", "od_fused", "normalized_od_reading",
		"temperature_c", "growth_rate", "measured_rpm", "led_a_intensity_update", "led_b_intensity_update",
		"led_c_intensity_update", "led_d_intensity_update", "add_media_ml", "remove_waste_ml", "add_alt_media_ml",
		"timestamp_localtime", "hours_since_experiment_created"}
	if !reflect.DeepEqual(p1[0], wantHeader) {
		t.Errorf("header = %q", p1[0])
	}
	want := [][]string{
		{"exp1", "pio01", "2026-03-01T12:00:00.000Z", "0.2", "", "", "", "", "", "10.0", "20.0", "", "", "", "", "", "2026-03-01 13:00:00.000", "2.0"},
		{"exp1", "pio01", "2026-03-01T12:00:30.000Z", "0.3", "", "", "", "0.5", "", "", "", "", "", "1.0", "-1.0", "", "2026-03-01 13:00:30.000", "2.008333333333"},
	}
	if !reflect.DeepEqual(p1[1:], want) {
		t.Errorf("activity rows =\n%q\nwant\n%q", p1[1:], want)
	}
	if p2 := readCSV(t, f["pioreactor_unit_activity_data/pioreactor_unit_activity_data-all_experiments-pio02-20260302100000.csv"]); len(p2) != 2 || p2[1][6] != "30.0" {
		t.Errorf("pio02 activity = %q", p2)
	}
	r := readCSV(t, f["pioreactor_unit_activity_data_rollup/pioreactor_unit_activity_data_rollup-all_experiments-pio01-20260302100000.csv"])
	wantRollup := []string{"exp1", "pio01", "2026-03-01 12:00:00", "0.25", "", "", "", "0.5", "", "1.0", "-1.0", "", "2026-03-01 13:00:00.000", "2.0"}
	if len(r) != 2 || !reflect.DeepEqual(r[1], wantRollup) {
		t.Errorf("rollup = %q\nwant %q", r, wantRollup)
	}
}

func TestSystemExperimentAndOtherTables(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	insert(t, db, store.Row{Table: store.Logs, Experiment: "$experiment", Unit: "pio01", Level: "INFO", Message: "m", Time: t0})
	if err := db.PutWorker(store.Worker{Unit: "pio01"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUnitLabel("exp1", "pio01", "Reactor 1"); err != nil {
		t.Fatal(err)
	}
	f, _, _ := run(t, db, export.Request{Experiment: "$experiment", Datasets: []string{"logs"}})
	recs := readCSV(t, f["logs/logs-all_experiments-all_units-20260302100000.csv"])
	if len(recs) != 2 || recs[1][len(recs[1])-1] != "" {
		t.Errorf("$experiment logs = %q, want an empty hours_since_experiment_created", recs)
	}
	f, _, _ = run(t, db, export.Request{Datasets: []string{"experiments", "pioreactor_unit_labels", "calibrations"}})
	exps := readCSV(t, f["experiments/experiments-all_experiments-all_units-20260302100000.csv"])
	if !reflect.DeepEqual(exps[0], []string{"experiment", "created_at", "description", "created_at_localtime"}) ||
		exps[1][2] != "first, \"quoted\"" {
		t.Errorf("experiments = %q", exps)
	}
	labels := readCSV(t, f["pioreactor_unit_labels/pioreactor_unit_labels-all_experiments-all_units-20260302100000.csv"])
	if len(labels) != 2 || labels[1][2] != "Reactor 1" {
		t.Errorf("labels = %q", labels)
	}
	if _, ok := f["calibrations/schema.json"]; !ok {
		t.Error("no calibrations schema")
	}
}

func TestPreview(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for i := range 7 {
		insert(t, db, store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "1", Angle: 90, Time: t0.Add(time.Duration(i) * time.Second), Value: 0.5})
	}
	d, _ := export.Lookup("od_readings")
	rows, err := export.Preview(db, d, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"experiment": "exp1", "pioreactor_unit": "pio01", "timestamp": "2026-03-01T12:00:00.000Z",
		"od_reading": 0.5, "angle": int64(90), "channel": int64(1)}
	if len(rows) != 5 || !reflect.DeepEqual(rows[0], want) {
		t.Errorf("preview = %d rows, first %v", len(rows), rows[0])
	}
	for _, ds := range export.Datasets() {
		if _, err := export.Preview(db, ds, 3); err != nil {
			t.Errorf("preview %s: %v", ds.Name, err)
		}
		desc := ds.Descriptor()
		if desc.DatasetName == "" || desc.Source != "app" {
			t.Errorf("descriptor %+v", desc)
		}
	}
}

func TestFloatCells(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	values := []float64{500, 1e-05, 0.0001, 1e16, 123456789, -0.5, 0.1 + 0.2, 1.0000000000001, 12345.678901234567, math.Inf(1), 0}
	for i, v := range values {
		insert(t, db, store.Row{Table: store.GrowthRates, Unit: "pio01", Time: t0.Add(time.Duration(i) * time.Second), Value: v})
	}
	f, _, _ := run(t, db, export.Request{Datasets: []string{"growth_rates"}})
	recs := readCSV(t, f["growth_rates/growth_rates-all_experiments-all_units-20260302100000.csv"])
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[3])
	}
	want := []string{"500.0", "1e-05", "0.0001", "1e+16", "123456789.0", "-0.5", "0.3", "1.0", "12345.678901234567", "inf", "0.0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("floats = %q\nwant     %q", got, want)
	}
	for i, s := range got[:len(got)-2] {
		if v, err := strconv.ParseFloat(s, 64); err != nil || math.Abs(v-values[i]) > 1e-12*math.Max(1, math.Abs(values[i])) {
			t.Errorf("%q does not round-trip %v", s, values[i])
		}
	}
}

func TestWriteRefusesNothing(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	if _, err := export.Write(context.Background(), db, io.Discard, export.Request{Experiment: "exp1"}, nil); err == nil {
		t.Error("an export without datasets succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rows := make([]store.Row, 30000)
	for i := range rows {
		rows[i] = store.Row{Table: store.Logs, Experiment: "exp1", Unit: "pio01", Level: "INFO", Message: strings.Repeat("x", 20), Time: t0.Add(time.Duration(i) * time.Millisecond)}
	}
	insert(t, db, rows...)
	if _, err := export.Write(ctx, db, io.Discard, export.Request{Experiment: "exp1", Datasets: []string{"logs"}}, nil); err == nil {
		t.Error("a cancelled export succeeded")
	}
	if !slices.ContainsFunc(export.Datasets(), func(d export.Dataset) bool { return d.Name == "pioreactor_unit_activity_data" }) {
		t.Error("activity data is not a dataset")
	}
}
