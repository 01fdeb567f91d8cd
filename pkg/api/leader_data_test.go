package api

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// dataRig is a leader API on a real store, its clock at t0.
type dataRig struct {
	db  *store.DB
	url string
}

func newDataRig(t *testing.T) *dataRig {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cl := cluster.New(cluster.Config{Resolve: func(string) (string, error) { return "http://127.0.0.1:1", nil }})
	s, err := New(Config{Unit: &fakeUnit{name: "leader"}, Now: (&fakeClock{t: t0}).Now, Version: "26.6.0",
		Leader: &Leader{Store: db, Publisher: &fakePublisher{}, Cluster: cl}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	if err := db.CreateExperiment(store.Experiment{Name: "exp1", CreatedAt: t0.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return &dataRig{db: db, url: srv.URL}
}

func (r *dataRig) insert(t *testing.T, rows ...store.Row) {
	t.Helper()
	for i := range rows {
		if rows[i].Experiment == "" {
			rows[i].Experiment = "exp1"
		}
	}
	if st, err := r.db.Insert(rows); err != nil || st.Invalid > 0 {
		t.Fatalf("Insert: %+v %v", st, err)
	}
}

func (r *dataRig) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return call(t, r.url, http.MethodGet, path, nil)
}

func TestTimeSeriesRoutes(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	r.insert(t,
		store.Row{Table: store.GrowthRates, Unit: "unit-a", Time: m(-240), Value: 9}, // exactly at the start: excluded
		store.Row{Table: store.GrowthRates, Unit: "unit-a", Time: m(-10), Value: 0.1234567},
		store.Row{Table: store.GrowthRates, Unit: "unit-b", Time: m(-5), Value: 0.2},
		store.Row{Table: store.TemperatureReadings, Unit: "unit-a", Time: m(-1), Value: 20.126},
		store.Row{Table: store.ODReadings, Unit: "unit-a", Channel: "1", Angle: 90, Time: m(-2), Value: 0.5},
		store.Row{Table: store.ODReadings, Unit: "unit-a", Channel: "2", Angle: 135, Time: m(-2), Value: 0.25},
		store.Row{Table: store.ODReadings, Unit: "unit-a", Channel: "2", Angle: 135, Time: m(1), Value: 9}, // the future
	)
	for i := range 10 {
		r.insert(t, store.Row{Table: store.AltMediaFractions, Unit: "unit-a", Time: m(-20 + i), Value: float64(i) / 10})
	}
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/experiments/exp1/time_series/growth_rates", 200,
			`{"series":["unit-a","unit-b"],"data":[[{"x":"2026-03-01T11:50:00.000Z","y":0.12346}],[{"x":"2026-03-01T11:55:00.000Z","y":0.2}]]}`},
		{"/api/workers/unit-b/experiments/exp1/time_series/growth_rates?lookback=1", 200,
			`{"series":["unit-b"],"data":[[{"x":"2026-03-01T11:55:00.000Z","y":0.2}]]}`},
		{"/api/experiments/exp1/time_series/temperature_readings", 200,
			`{"series":["unit-a"],"data":[[{"x":"2026-03-01T11:59:00.000Z","y":20.13}]]}`},
		{"/api/experiments/exp1/time_series/od_readings", 200,
			`{"series":["unit-a-1","unit-a-2"],"data":[[{"x":"2026-03-01T11:58:00.000Z","y":0.5}],[{"x":"2026-03-01T11:58:00.000Z","y":0.25}]]}`},
		{"/api/experiments/nope/time_series/od_readings", 200, `{"series":[],"data":[]}`},
		{"/api/experiments/exp1/time_series/alt_media_fractions/alt_media_fraction?target_points=3", 200,
			`{"series":["unit-a"],"data":[[{"x":"2026-03-01T11:43:00.000Z","y":0.3},{"x":"2026-03-01T11:47:00.000Z","y":0.7}]]}`},
		{"/api/experiments/exp1/time_series/growth_rates?target_points=0", 400, ""},
		{"/api/workers/unit-a/experiments/exp1/time_series/growth_rates?target_points=0", 400, ""},
		{"/api/experiments/exp1/time_series/growth_rates?target_points=x", 400, ""},
		{"/api/experiments/exp1/time_series/growth_rates?lookback=x", 400, ""},
		{"/api/experiments/exp1/time_series/logs", 400, ""},
		{"/api/experiments/exp1/time_series/logs/message", 400, ""},
		{"/api/experiments/exp1/time_series/sqlite_master/name", 400, ""},
	}
	for _, tt := range tests {
		status, body := r.get(t, tt.path)
		if status != tt.status || (tt.want != "" && body != tt.want) {
			t.Errorf("GET %s = %d %s\nwant %d %s", tt.path, status, body, tt.status, tt.want)
		}
		if status == 400 && !strings.Contains(body, `"status":400`) {
			t.Errorf("GET %s: not an error envelope: %s", tt.path, body)
		}
	}
	status, body := r.get(t, "/api/experiments/exp1/time_series/growth_rates?target_points=0")
	if status != 400 || !strings.Contains(body, "target_points must be \\u003e 0") && !strings.Contains(body, "target_points must be > 0") {
		t.Errorf("target_points=0: %d %s", status, body)
	}
}

func TestMediaRates(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	r.insert(t,
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "add_media", Value: 1.5, Time: t0.Add(-time.Hour)},
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "add_alt_media", Value: 0.3, Time: t0.Add(-time.Hour)},
		store.Row{Table: store.DosingEvents, Unit: "pio01", Event: "remove_waste", Value: 2, Time: t0.Add(-time.Hour)},
		store.Row{Table: store.DosingEvents, Unit: "pio02", Event: "add_media", Value: 3, Time: t0.Add(-2 * time.Hour)},
		store.Row{Table: store.DosingEvents, Unit: "pio02", Event: "add_media", Value: 30, Time: t0.Add(-4 * time.Hour)},
	)
	status, body := r.get(t, "/api/experiments/exp1/media_rates")
	want := `{"all":{"mediaRate":1.5,"altMediaRate":0.09999999999999999},"pio01":{"mediaRate":0.5,"altMediaRate":0.09999999999999999},"pio02":{"mediaRate":1,"altMediaRate":0}}`
	if status != 200 || body != want {
		t.Errorf("media_rates = %d %s\nwant %s", status, body, want)
	}
}

func TestLogRoutes(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	if err := r.db.PutWorker(store.Worker{Unit: "pio01"}); err != nil {
		t.Fatal(err)
	}
	if err := r.db.CreateExperiment(store.Experiment{Name: "exp0", CreatedAt: t0.Add(-72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// pio01 was in exp0 from -10 h to -5 h, then in exp1 from -5 h on.
	if _, err := r.db.Assign("pio01", "exp0", t0.Add(-10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.Assign("pio01", "exp1", t0.Add(-5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	log := func(exp, unit string, h float64, level, msg string) store.Row {
		return store.Row{Table: store.Logs, Experiment: exp, Unit: unit, Time: t0.Add(time.Duration(h * float64(time.Hour))),
			Level: level, Message: msg, Task: "job", Source: "app"}
	}
	r.insert(t,
		log("exp1", "pio01", -30, "ERROR", "old error"),
		log("exp1", "pio01", -3, "INFO", "info"),
		log("exp1", "pio01", -2, "NOTICE", "notice"),
		log("exp1", "$broadcast", -1.5, "WARNING", "warning"),
		log("exp1", "pio02", -1, "ERROR", "error"),
		log("exp1", "pio01", -0.5, "CRITICAL", "critical"),
		log("exp0", "pio01", -7, "INFO", "exp0 while assigned"),
		log("exp0", "pio01", -4, "INFO", "exp0 after"),
		log("$experiment", "pio01", -0.2, "INFO", "system"),
		log("$experiment", "$broadcast", -0.1, "INFO", "system broadcast"),
	)
	msgs := func(body string) []string {
		var rows []LogLine
		if err := json.Unmarshal([]byte(body), &rows); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		out := []string{}
		for _, l := range rows {
			out = append(out, l.Message)
		}
		return out
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/api/experiments/exp1/logs?min_level=NOTICE", []string{"error", "warning", "notice", "old error"}},
		{"/api/experiments/exp1/logs", []string{"error", "warning", "notice", "info", "old error"}},
		{"/api/experiments/exp1/logs?min_level=bogus&skip=3", []string{"info", "old error"}},
		{"/api/experiments/exp1/recent_logs", []string{"error", "warning", "notice", "info"}},
		{"/api/workers/pio01/experiments/exp1/recent_logs", []string{"system broadcast", "system", "warning", "notice", "info"}},
		{"/api/workers/pio01/experiments/exp0/logs", []string{"exp0 while assigned"}},
		{"/api/workers/pio02/experiments/exp1/logs", []string{}},
		{"/api/units/pio01/system_logs", []string{"system broadcast", "system"}},
		{"/api/units/pio01/logs?min_level=ERROR", []string{"old error"}},
		{"/api/logs?min_level=WARNING", []string{"error", "warning", "old error"}},
	}
	for _, tt := range tests {
		status, body := r.get(t, tt.path)
		if status != 200 {
			t.Errorf("GET %s = %d %s", tt.path, status, body)
			continue
		}
		if got := msgs(body); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("GET %s = %q\nwant %q", tt.path, got, tt.want)
		}
	}
	_, body := r.get(t, "/api/experiments/exp1/logs?min_level=ERROR")
	want := `[{"timestamp":"2026-03-01T11:00:00.000Z","level":"ERROR","pioreactor_unit":"pio02","message":"error","task":"job","experiment":"exp1"}`
	if !strings.HasPrefix(body, want) {
		t.Errorf("log row = %s\nwant %s", body, want)
	}
	if status, _ := r.get(t, "/api/logs?skip=abc"); status != 400 {
		t.Errorf("skip=abc answered %d, want 400", status)
	}
}

func TestExportRoutes(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	for i := range 30 {
		r.insert(t, store.Row{Table: store.ODReadings, Unit: "pio01", Channel: "1", Angle: 90,
			Time: t0.Add(time.Duration(i-30) * time.Minute), Value: float64(i) / 100})
	}
	status, body := r.get(t, "/api/datasets/exportable")
	if status != 200 || !strings.Contains(body, `"dataset_name":"od_readings"`) {
		t.Fatalf("datasets = %d %.200s", status, body)
	}
	for _, n := range []string{"0", "101", "-1", "abc"} {
		if status, _ := r.get(t, "/api/datasets/exportable/od_readings/preview?n_rows="+n); status != 400 {
			t.Errorf("preview n_rows=%s answered %d, want 400", n, status)
		}
	}
	if status, _ := r.get(t, "/api/datasets/exportable/nope/preview"); status != 404 {
		t.Errorf("preview of an unknown dataset answered %d", status)
	}
	status, body = r.get(t, "/api/datasets/exportable/od_readings/preview?n_rows=2")
	if status != 200 || !strings.HasPrefix(body, `[{"angle":90,"channel":1,"experiment":"exp1","od_reading":0,`) {
		t.Errorf("preview = %d %s", status, body)
	}

	bad := []struct{ body, cause string }{
		{`{"datasets":"od_readings","experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true}`,
			"Expected `array`, got `str` - at `$.datasets`"},
		{`{"datasets":["od_readings"],"experiments":"exp1","partition_by_unit":false,"partition_by_experiment":true}`, ""},
		{`{"datasets":["od_readings"],"experiment":"","partition_by_unit":false,"partition_by_experiment":true}`, ""},
		{`{"datasets":[],"experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true}`, ""},
		{`{"datasets":["od_readings"],"experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true,"start_time":"2025-11-02T01:30:00"}`, ""},
		{`{"datasets":["od_readings"],"experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true,"start_time":"2026-03-02T00:00:00Z","end_time":"2026-03-01T00:00:00Z"}`, ""},
		{`{}`, ""},
	}
	for _, b := range bad {
		status, body := call(t, r.url, http.MethodPost, "/api/datasets/exportable/export", b.body)
		env := decode(t, body)
		if status != 400 || env["error"] != "Invalid request body." || (b.cause != "" && env["cause"] != b.cause) {
			t.Errorf("export %s = %d %s", b.body, status, body)
		}
		if b.cause != "" && env["remediation"] != "Send a JSON object with the required fields: datasets, experiment, partition_by_unit, partition_by_experiment." {
			t.Errorf("remediation = %v", env["remediation"])
		}
	}

	status, body = call(t, r.url, http.MethodPost, "/api/datasets/exportable/export",
		`{"datasets":["od_readings","nope"],"experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true,"start_time":"2026-03-01T06:40:00-05:00","end_time":null}`)
	res := await(t, r.url, status, body)
	result, _ := res["result"].(map[string]any)
	filename, _ := result["filename"].(string)
	if res["status"] != "succeeded" || result["result"] != true || result["msg"] != "Finished" || filename != "export_20260301120000.zip" {
		t.Fatalf("export result = %v", res)
	}
	resp, err := http.Get(r.url + "/exports/" + filename)
	if err != nil {
		t.Fatal(err)
	}
	zipBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download = %d", resp.StatusCode)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		t.Fatal(err)
	}
	var csvLines int
	var manifest struct {
		Filters struct {
			StartTime *string `json:"start_time"`
		} `json:"filters"`
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case strings.HasSuffix(f.Name, ".csv"):
			csvLines += bytes.Count(data, []byte("\n"))
		case f.Name == "manifest.json":
			if err := json.Unmarshal(data, &manifest); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 11:40 onwards, inclusive: minutes -20..-1, plus the header
	if csvLines != 21 {
		t.Errorf("the export CSV has %d lines, want 21", csvLines)
	}
	if manifest.Filters.StartTime == nil || *manifest.Filters.StartTime != "2026-03-01T11:40:00.000Z" {
		t.Errorf("manifest start_time = %v, want the bound in UTC", manifest.Filters.StartTime)
	}
	status, body = r.get(t, "/api/datasets/exportable/export/progress")
	prog := decode(t, body)
	if status != 200 || prog["running"] != false || prog["fraction"] != 1.0 || prog["filename"] != filename {
		t.Errorf("progress = %d %s", status, body)
	}
	for _, name := range []string{"../leader.db", ".export_x.zip.tmp", "nope.zip"} {
		if status, _ := r.get(t, "/exports/"+name); status != 404 {
			t.Errorf("GET /exports/%s answered %d, want 404", name, status)
		}
	}
	if status, _ := call(t, r.url, http.MethodPost, "/api/datasets/exportable/export-to-usb", `{}`); status != 501 {
		t.Errorf("export-to-usb answered %d, want 501", status)
	}
}

func TestBackupRoute(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	status, body := call(t, r.url, http.MethodPost, "/api/backup", nil)
	res := await(t, r.url, status, body)
	result, _ := res["result"].(map[string]any)
	path, _ := result["path"].(string)
	if res["status"] != "succeeded" || path != r.db.Path()+".backup" {
		t.Fatalf("backup result = %v", res)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("backup file: %v", err)
	}
}

// TestLookbackLargerThanData: a lookback longer than all the data returns all of it. It
// used to overflow time.Duration (1e308 h) or put the window's start before the epoch
// (1e6 h from 2026), and both answered nothing.
func TestLookbackLargerThanData(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	r.insert(t,
		store.Row{Table: store.GrowthRates, Unit: "unit-a", Time: t0.Add(-1000 * 24 * time.Hour), Value: 0.1},
		store.Row{Table: store.GrowthRates, Unit: "unit-a", Time: t0.Add(-time.Minute), Value: 0.2},
		store.Row{Table: store.AltMediaFractions, Unit: "unit-a", Time: t0.Add(-1000 * 24 * time.Hour), Value: 0.3},
		store.Row{Table: store.AltMediaFractions, Unit: "unit-a", Time: t0.Add(-time.Minute), Value: 0.4},
	)
	for _, lookback := range []string{"1e308", "1e6", "1.7976931348623157e308", "25000"} {
		for _, c := range []struct{ path, want string }{
			{"/api/experiments/exp1/time_series/growth_rates", `"y":0.1`},
			{"/api/experiments/exp1/time_series/alt_media_fractions/alt_media_fraction", `"y":0.3`},
			{"/api/workers/unit-a/experiments/exp1/time_series/growth_rates", `"y":0.1`},
		} {
			status, body := r.get(t, c.path+"?lookback="+lookback)
			if status != http.StatusOK || !strings.Contains(body, c.want) || strings.Count(body, `"y"`) != 2 {
				t.Errorf("%s lookback=%s: %d %s, want both points", c.path, lookback, status, body)
			}
		}
	}
	for _, lookback := range []string{"0", "-1e308"} {
		status, body := r.get(t, "/api/experiments/exp1/time_series/growth_rates?lookback="+lookback)
		if status != http.StatusOK || strings.Contains(body, `"y"`) {
			t.Errorf("lookback=%s: %d %s, want an empty window", lookback, status, body)
		}
	}
}

// TestExportsInOneSecond: two exports in the same second get two files; the second used
// to take the first one's name and overwrite it.
func TestExportsInOneSecond(t *testing.T) {
	t.Parallel()
	r := newDataRig(t)
	r.insert(t, store.Row{Table: store.ODReadings, Unit: "unit-a", Channel: "1", Angle: 90, Time: t0.Add(-time.Minute), Value: 0.5})
	body := `{"datasets":["od_readings"],"experiment":"exp1","partition_by_unit":false,"partition_by_experiment":true}`
	var names []string
	for range 3 {
		status, got := call(t, r.url, http.MethodPost, "/api/datasets/exportable/export", body)
		res := await(t, r.url, status, got)
		result, _ := res["result"].(map[string]any)
		name, _ := result["filename"].(string)
		names = append(names, name)
	}
	want := []string{"export_20260301120000.zip", "export_20260301120000_2.zip", "export_20260301120000_3.zip"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("export names = %q, want %q", names, want)
	}
	for _, name := range names {
		if status, _ := r.get(t, "/exports/"+name); status != http.StatusOK {
			t.Errorf("GET /exports/%s = %d", name, status)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(r.db.Path()), "exports", ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
