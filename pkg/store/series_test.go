package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// golden has one fully populated row per data table.
func golden() []store.Row {
	ts := t0.Add(1234 * time.Millisecond)
	rows := []store.Row{
		{Table: store.ODReadings, Channel: "2", Angle: 90, Value: 0.0312},
		{Table: store.RawODReadings, Channel: "1", Value: 0.5},
		{Table: store.ODBlanks, Channel: "1", Angle: 135, Value: 0.01},
		{Table: store.ODReadingsFused, Value: 0.7},
		{Table: store.ODReadingsFiltered, Value: 1.37},
		{Table: store.GrowthRates, Value: 0.213},
		{Table: store.TemperatureReadings, Value: 30.1},
		{Table: store.StirringRates, Value: 498.2},
		{Table: store.AltMediaFractions, Value: 0.25},
		{Table: store.LiquidVolumes, Value: 14},
		{Table: store.IRLEDIntensities, Value: 0.98},
		{Table: store.PWMDCs, PWM: [5]float64{35, 0, 0, 42.5, 0}},
		{Table: store.DosingEvents, Event: "add_media", Value: 0.5, Source: "turbidostat"},
		{Table: store.DosingEvents, Event: "flush", Value: -0.25},
		{Table: store.LEDChangeEvents, Channel: "B", Value: 50, Source: "CLI"},
		{Table: store.DosingAutomationEvents, Event: "DilutionEvent", Message: "exchanged 1 ml", Data: `{"volume":1.0}`},
		{Table: store.LEDAutomationEvents, Event: "NoEvent"},
		{Table: store.TemperatureAutomationEvents, Event: "UpdatedHeaterDC", Message: "delta_dc=3.28125", Data: `{"current_dc":null}`},
		{Table: store.DosingAutomationSettings, Event: "chemostat", EndedAt: ts.Add(time.Hour), Data: "eyJkdXJhdGlvbiI6MjAuMH0="},
		{Table: store.LEDAutomationSettings, Event: "light_dark_cycle", Data: "e30="},
		{Table: store.TemperatureAutomationSettings, Event: "thermostat", Data: "e30="},
		{Table: store.Logs, Level: "INFO", Message: "Ready.\nline two, with \"quotes\"", Task: "stirring", Source: "app"},
		{Table: store.ExperimentProfileRuns, Event: "demo.yaml"},
		{Table: store.SimulationTruth, Truth: [store.TruthColumns]float64{0.42, 0.61, 30.02, 41.5, 15, 498.7, 0.125}},
	}
	for i := range rows {
		rows[i].Experiment, rows[i].Unit, rows[i].Time = "exp1", "pio01", ts
	}
	return rows
}

func readAll(t *testing.T, db *store.DB, q store.Query) []store.Row {
	t.Helper()
	var out []store.Row
	it := db.Rows(q)
	for it.Next() {
		out = append(out, *it.Row())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("Rows(%+v): %v", q, err)
	}
	return out
}

func mustInsert(t *testing.T, db *store.DB, rows []store.Row) store.InsertStats {
	t.Helper()
	st, err := db.Insert(rows)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	return st
}

func TestEveryTableRoundTrips(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	rows := golden()
	if st := mustInsert(t, db, rows); st.Inserted != len(rows) {
		t.Fatalf("Insert stats = %+v, want %d inserted", st, len(rows))
	}
	covered := map[store.Table]bool{}
	for _, want := range rows {
		covered[want.Table] = true
		got := readAll(t, db, store.Query{Table: want.Table, Experiments: []string{"exp1"}})
		var match bool
		for _, g := range got {
			match = match || reflect.DeepEqual(g, want)
		}
		if !match {
			t.Errorf("%s: stored %+v, read back %+v", want.Table, want, got)
		}
	}
	for _, tb := range store.Tables() {
		if !covered[tb] {
			t.Errorf("table %s has no golden row", tb)
		}
	}
}

func TestColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		table store.Table
		want  []string
	}{
		{store.ODReadings, []string{"experiment", "pioreactor_unit", "timestamp", "od_reading", "angle", "channel"}},
		{store.GrowthRates, []string{"experiment", "pioreactor_unit", "timestamp", "rate"}},
		{store.DosingEvents, []string{"experiment", "pioreactor_unit", "timestamp", "event", "volume_change_ml", "source_of_event"}},
		{store.Logs, []string{"experiment", "pioreactor_unit", "timestamp", "message", "source", "level", "task"}},
		{store.PWMDCs, []string{"experiment", "pioreactor_unit", "timestamp", "channel_1", "channel_2", "channel_3", "channel_4", "channel_5"}},
		{store.DosingAutomationSettings, []string{"pioreactor_unit", "experiment", "started_at", "ended_at", "automation_name", "settings"}},
		{store.ExperimentProfileRuns, []string{"started_at", "experiment_profile_name", "experiment"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range tt.table.Columns() {
			got = append(got, c.Name)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s columns = %v, want %v", tt.table, got, tt.want)
		}
	}
	r := golden()[0]
	if f, ok := r.FieldByName("channel"); !ok || f.Kind != store.Integer || f.I != 2 {
		t.Errorf("od_readings channel = %+v, want integer 2", f)
	}
	r = golden()[12] // dosing with a source
	if f, _ := r.FieldByName("source_of_event"); f.Null || f.S != "turbidostat" {
		t.Errorf("source_of_event = %+v", f)
	}
	r = golden()[13] // dosing without one
	if f, _ := r.FieldByName("source_of_event"); !f.Null {
		t.Errorf("empty source_of_event = %+v, want NULL", f)
	}
}

func TestInsertDeduplicatesReplays(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	row := store.Row{Table: store.GrowthRates, Experiment: "exp1", Unit: "pio01", Time: at(1), Value: 0.2}
	other := row
	other.Value = 0.3
	log1 := store.Row{Table: store.Logs, Experiment: "exp1", Unit: "pio01", Time: at(1), Level: "INFO", Message: "a"}
	log2 := log1
	log2.Message = "b"
	st := mustInsert(t, db, []store.Row{row, row, other, log1, log2, log1})
	if want := (store.InsertStats{Inserted: 4, Duplicates: 2}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if st := mustInsert(t, db, []store.Row{row, other, log2}); st.Duplicates != 3 || st.Inserted != 0 {
		t.Errorf("replay stats = %+v, want 3 duplicates", st)
	}
	got := readAll(t, db, store.Query{Table: store.GrowthRates})
	if len(got) != 2 || got[0].Value != 0.2 || got[1].Value != 0.3 {
		t.Errorf("rows at one instant = %+v, want 0.2 then 0.3 (insertion order)", got)
	}
	logs, err := db.Logs(store.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].Message != "b" || logs[1].Message != "a" {
		t.Errorf("logs = %+v, want b then a (newest first)", logs)
	}
}

func TestInsertCountsInvalidRows(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	good := store.Row{Table: store.ODReadings, Experiment: "e", Unit: "u", Channel: "1", Time: at(0)}
	bad := []store.Row{
		{Table: "nope", Experiment: "e", Unit: "u", Time: at(0)},
		{Table: store.GrowthRates, Unit: "u", Time: at(0)},
		{Table: store.GrowthRates, Experiment: "e", Time: at(0)},
		{Table: store.ODReadings, Experiment: "e", Unit: "u", Channel: "5", Time: at(0)},
		{Table: store.GrowthRates, Experiment: "e", Unit: "u", Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	st := mustInsert(t, db, append(bad, good))
	if want := (store.InsertStats{Inserted: 1, Invalid: len(bad)}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

func TestDeleteExperimentRemovesItsRows(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	var rows []store.Row
	for _, exp := range []string{"exp1", "exp2", "$experiment"} {
		for _, r := range golden() {
			r.Experiment = exp
			rows = append(rows, r)
		}
	}
	mustInsert(t, db, rows)
	if err := db.DeleteExperiment("exp1"); err != nil {
		t.Fatal(err)
	}
	for _, tb := range store.Tables() {
		for exp, want := range map[string]bool{"exp1": false, "exp2": true, "$experiment": true} {
			n, err := db.Count(store.Query{Table: tb, Experiments: []string{exp}})
			if err != nil {
				t.Fatal(err)
			}
			if (n > 0) != want {
				t.Errorf("%s rows of %s after deleting exp1: %d", tb, exp, n)
			}
		}
	}
	logs, err := db.Logs(store.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if l.Experiment == "exp1" {
			t.Errorf("log of deleted experiment still listed: %+v", l)
		}
	}
}

func TestRowsOrderAndBounds(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	var rows []store.Row
	for i := range 10 {
		for _, u := range []string{"pio02", "pio01"} {
			for _, ch := range []string{"2", "1"} {
				rows = append(rows, store.Row{Table: store.ODReadings, Experiment: "e", Unit: u,
					Channel: ch, Time: at(i), Angle: 90, Value: float64(i)})
			}
		}
	}
	// out of order on purpose: keys sort by time whatever the insertion order
	for i := len(rows) - 1; i >= 0; i -= 7 {
		mustInsert(t, db, rows[i:i+1])
	}
	mustInsert(t, db, rows)
	key := func(r store.Row) string { return r.Time.Format("15:04") + " " + r.Unit + "-" + r.Channel }
	tests := []struct {
		name  string
		q     store.Query
		first []string
		n     int
	}{
		{"by time", store.Query{Table: store.ODReadings},
			[]string{"22:00 pio01-1", "22:00 pio01-2", "22:00 pio02-1", "22:00 pio02-2", "22:01 pio01-1"}, 40},
		{"by unit", store.Query{Table: store.ODReadings, ByUnit: true},
			[]string{"22:00 pio01-1", "22:00 pio01-2", "22:01 pio01-1"}, 40},
		{"bounds inclusive", store.Query{Table: store.ODReadings, From: at(3), To: at(4), Units: []string{"pio02"}},
			[]string{"22:03 pio02-1", "22:03 pio02-2", "22:04 pio02-1", "22:04 pio02-2"}, 4},
		{"unknown experiment", store.Query{Table: store.ODReadings, Experiments: []string{"x"}}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, db, tt.q)
			if len(got) != tt.n {
				t.Fatalf("%d rows, want %d", len(got), tt.n)
			}
			for i, w := range tt.first {
				if k := key(got[i]); k != w {
					t.Errorf("row %d = %s, want %s", i, k, w)
				}
			}
			n, err := db.Count(tt.q)
			if err != nil || n != int64(tt.n) {
				t.Errorf("Count = %d, %v; want %d", n, err, tt.n)
			}
		})
	}
	if units, err := db.Units("e", store.ODReadings); err != nil || !reflect.DeepEqual(units, []string{"pio01", "pio02"}) {
		t.Errorf("Units = %v, %v", units, err)
	}
}

func TestRowsReadsInChunks(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	const n = 40000 // more than one chunk per series
	rows := make([]store.Row, n)
	for i := range rows {
		rows[i] = store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "pio01", Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i)}
	}
	mustInsert(t, db, rows)
	it := db.Rows(store.Query{Table: store.GrowthRates})
	i := 0
	for it.Next() {
		if it.Row().Value != float64(i) {
			t.Fatalf("row %d has value %v", i, it.Row().Value)
		}
		if i == n/2 { // a write between chunks does not disturb the reader
			mustInsert(t, db, []store.Row{{Table: store.GrowthRates, Experiment: "e", Unit: "pio02", Time: t0, Value: 1}})
		}
		i++
	}
	if it.Err() != nil || i != n {
		t.Errorf("read %d rows, err %v; want %d", i, it.Err(), n)
	}
	if it := db.Rows(store.Query{Table: "bogus"}); it.Next() || it.Err() == nil {
		t.Error("Rows of an unknown table gave no error")
	}
	if _, err := db.Count(store.Query{Table: "bogus"}); err == nil {
		t.Error("Count of an unknown table gave no error")
	}
}

func TestRowsMergesManySeriesAcrossChunks(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	const perUnit = 20000 // several refills per series
	var rows []store.Row
	for i := range perUnit {
		for u, unit := range []string{"pio03", "pio01", "pio02"} {
			rows = append(rows, store.Row{Table: store.GrowthRates, Experiment: "e", Unit: unit,
				Time: t0.Add(time.Duration(3*i+u) * time.Millisecond), Value: float64(3*i + u)})
		}
	}
	mustInsert(t, db, rows)
	for _, byUnit := range []bool{false, true} {
		it := db.Rows(store.Query{Table: store.GrowthRates, ByUnit: byUnit})
		n, lastUnit := 0, ""
		var last time.Time
		for it.Next() {
			r := it.Row()
			if byUnit && r.Unit != lastUnit {
				if r.Unit < lastUnit {
					t.Fatalf("byUnit: %s after %s", r.Unit, lastUnit)
				}
				lastUnit, last = r.Unit, time.Time{}
			}
			if r.Time.Before(last) {
				t.Fatalf("byUnit=%t: row %d at %s after %s", byUnit, n, r.Time, last)
			}
			last = r.Time
			n++
		}
		if it.Err() != nil || n != 3*perUnit {
			t.Errorf("byUnit=%t: %d rows, err %v; want %d", byUnit, n, it.Err(), 3*perUnit)
		}
	}
}

func TestChart(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	var rows []store.Row
	// Irregular: minutes 0..9 one row each, then 600 (10 h) and 1200 (20 h).
	for _, m := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 600, 1200} {
		rows = append(rows, store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "pio01", Time: at(m), Value: float64(m)})
		rows = append(rows, store.Row{Table: store.ODReadings, Experiment: "e", Unit: "pio01", Channel: "1", Time: at(m), Value: float64(m)})
		rows = append(rows, store.Row{Table: store.ODReadings, Experiment: "e", Unit: "pio01", Channel: "2", Time: at(m), Value: -float64(m)})
	}
	rows = append(rows, store.Row{Table: store.GrowthRates, Experiment: "e", Unit: "pio00", Time: at(-60), Value: 1})
	mustInsert(t, db, rows)
	values := func(s store.Series) []float64 {
		var out []float64
		for _, p := range s.Points {
			out = append(out, p.Value)
		}
		return out
	}
	end := at(1200)
	tests := []struct {
		name   string
		q      store.ChartQuery
		series []string
		first  []float64
	}{
		{"all rows fit", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(-1), Until: end, TargetPoints: 720},
			[]string{"pio01"}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 600, 1200}},
		{"start exclusive", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(0), Until: at(3), TargetPoints: 720},
			[]string{"pio01"}, []float64{1, 2, 3}},
		{"irregular gives fewer points", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(-1), Until: end, TargetPoints: 4},
			[]string{"pio01"}, []float64{0, 600, 1200}},
		{"target 1 is the last row", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(-1), Until: end, TargetPoints: 1},
			[]string{"pio01"}, []float64{1200}},
		{"target 2 is first and last", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(-1), Until: at(9), TargetPoints: 2},
			[]string{"pio01"}, []float64{0, 9}},
		{"evenly spaced", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(-1), Until: at(9), TargetPoints: 4},
			[]string{"pio01"}, []float64{0, 3, 6, 9}},
		{"od series per channel", store.ChartQuery{Table: store.ODReadings, Experiment: "e", After: at(-1), Until: at(1), TargetPoints: 720},
			[]string{"pio01-1", "pio01-2"}, []float64{0, 1}},
		{"one unit", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", Unit: "pio00", After: at(-100), Until: end, TargetPoints: 10},
			[]string{"pio00"}, []float64{1}},
		{"empty window", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: at(2000), Until: at(3000), TargetPoints: 10}, nil, nil},
		{"window before 1970 holds every row", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", Unit: "pio01",
			After: end.Add(-1e6 * time.Hour), Until: end, TargetPoints: 720}, []string{"pio01"}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 600, 1200}},
		{"lookback 0 is empty", store.ChartQuery{Table: store.GrowthRates, Experiment: "e", After: end, Until: end, TargetPoints: 720}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Chart(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if !reflect.DeepEqual(names, tt.series) {
				t.Fatalf("series = %v, want %v", names, tt.series)
			}
			if len(got) > 0 && !reflect.DeepEqual(values(got[0]), tt.first) {
				t.Errorf("points = %v, want %v", values(got[0]), tt.first)
			}
		})
	}
	for _, q := range []store.ChartQuery{
		{Table: store.GrowthRates, TargetPoints: 0},
		{Table: store.Logs, TargetPoints: 10},
	} {
		if _, err := db.Chart(q); err == nil {
			t.Errorf("Chart(%+v) gave no error", q)
		}
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	var rows []store.Row
	add := func(exp, unit string, m int, level, msg string) {
		rows = append(rows, store.Row{Table: store.Logs, Experiment: exp, Unit: unit, Time: at(m), Level: level, Message: msg, Task: "t", Source: "app"})
	}
	add("exp1", "pio01", 1, "INFO", "i1")
	add("exp1", "pio02", 2, "ERROR", "e2")
	add("exp1", "$broadcast", 3, "NOTICE", "n3")
	add("exp1", "pio01", 4, "DEBUG", "d4")
	add("exp2", "pio01", 5, "WARNING", "w5")
	add("$experiment", "pio01", 6, "INFO", "s6")
	add("exp1", "pio01", 7, "CRITICAL", "c7")
	mustInsert(t, db, rows)
	tests := []struct {
		name string
		q    store.LogQuery
		want []string
	}{
		{"everything newest first", store.LogQuery{}, []string{"c7", "s6", "w5", "d4", "n3", "e2", "i1"}},
		{"levels", store.LogQuery{Levels: []string{"ERROR", "WARNING", "NOTICE"}}, []string{"w5", "n3", "e2"}},
		{"experiment", store.LogQuery{Experiments: []string{"exp1"}, Levels: []string{"INFO", "ERROR", "NOTICE"}}, []string{"n3", "e2", "i1"}},
		{"unit with broadcast", store.LogQuery{Experiments: []string{"exp1"}, Units: []string{"pio01", "$broadcast"}}, []string{"c7", "d4", "n3", "i1"}},
		{"unit, any experiment", store.LogQuery{Units: []string{"pio01"}}, []string{"c7", "s6", "w5", "d4", "i1"}},
		{"skip and limit", store.LogQuery{Skip: 2, Limit: 3}, []string{"w5", "d4", "n3"}},
		{"after", store.LogQuery{After: at(5)}, []string{"c7", "s6"}},
		{"windows", store.LogQuery{Windows: []store.Window{{From: at(1), To: at(2)}, {From: at(6)}}}, []string{"c7", "s6", "e2", "i1"}},
		{"unknown experiment", store.LogQuery{Experiments: []string{"nope"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Logs(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, l := range got {
				msgs = append(msgs, l.Message)
			}
			if !reflect.DeepEqual(msgs, tt.want) {
				t.Errorf("messages = %v, want %v", msgs, tt.want)
			}
		})
	}
	got, _ := db.Logs(store.LogQuery{Limit: 1})
	want := store.LogRow{Timestamp: at(7), Level: "CRITICAL", Unit: "pio01", Message: "c7", Task: "t", Experiment: "exp1", Source: "app"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("newest log = %+v, want %+v", got, want)
	}
}
