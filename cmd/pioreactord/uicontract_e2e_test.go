package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var wsLine = regexp.MustCompile(`WebSocket\s+wss?://[^:]+:(\d+)/mqtt`)

// getRaw returns a route's status and raw body.
func (c *simCluster) getRaw(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + c.http + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// What a dashboard needs from `pioreactord --sim --demo` without --config (issue 9): the
// config served and saved, with the real WebSocket port; descriptors; all-time chart data;
// the retained bioreactor values of every unit.
func TestUIContractUnderSim(t *testing.T) {
	c := startCluster(t, "--units", "2", "--speed", "60", "--demo")
	m := wsLine.FindStringSubmatch(c.out.String())
	if m == nil {
		t.Fatalf("no WebSocket line in the banner:\n%s", c.out.String())
	}
	status, text := c.getRaw(t, "/api/config/shared")
	if status != 200 || !strings.Contains(text, "\nbroker_ws_port="+m[1]+"\n") || !strings.Contains(text, "\nbroker_address=127.0.0.1\n") {
		t.Fatalf("config/shared: %d, want the WebSocket port %s and a host:\n%s", status, m[1], text)
	}
	status, parsed := c.getRaw(t, "/api/config/shared?format=json")
	var sections map[string]map[string]string
	if err := json.Unmarshal([]byte(parsed), &sections); status != 200 || err != nil ||
		sections["mqtt"]["broker_ws_port"] != m[1] || sections["ui.overview.charts"]["optical_density"] != "1" {
		t.Fatalf("config/shared?format=json: %d %v, want [mqtt] broker_ws_port %s and [ui.overview.charts] as one section:\n%.400s", status, err, m[1], parsed)
	}
	body, _ := json.Marshal(map[string]string{"code": text + "\n# edited through the API\n"})
	if status, out := c.call(t, "PATCH", "/api/config/shared", string(body)); status != 200 {
		t.Fatalf("save config/shared: %d %v", status, out)
	}
	if _, again := c.getRaw(t, "/api/config/shared"); !strings.Contains(again, "# edited through the API") {
		t.Error("the saved config is not served")
	}
	if status, out := c.call(t, "PATCH", "/api/config/units/pio01/specific", `{"code":"[stirring.config]\ninitial_target_rpm=450\n"}`); status != 200 {
		t.Fatalf("save pio01's unit config: %d %v", status, out)
	}
	if status, merged := c.getRaw(t, "/api/config/units/pio01"); status != 200 || !strings.Contains(merged, `"initial_target_rpm":"450"`) {
		t.Errorf("pio01's merged config: %d %s", status, merged)
	}
	if status, d := c.getRaw(t, "/api/workers/pio01/jobs/descriptors"); status != 200 || !strings.Contains(d, `"key":"target_rpm"`) {
		t.Errorf("pio01's job descriptors: %d %.300s", status, d)
	}
	if status, _ := c.getRaw(t, "/api/workers/$broadcast/jobs/descriptors"); status != 400 {
		t.Errorf("$broadcast descriptors: %d, want 400", status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, ts := c.getRaw(t, "/api/experiments/demo/time_series/od_readings?lookback=1000000")
		var v struct{ Data [][]any }
		_ = json.Unmarshal([]byte(ts), &v)
		units := map[int]bool{}
		for i, s := range v.Data {
			if len(s) > 0 {
				units[i] = true
			}
		}
		if len(units) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("all-time OD has %d non-empty series: %.300s", len(units), ts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, unit := range []string{"pio01", "pio02"} {
		for _, v := range []string{"current_volume_ml", "efflux_tube_volume_ml", "alt_media_fraction",
			"cumulative_media_added_ml", "cumulative_alt_media_added_ml", "cumulative_waste_removed_ml"} {
			if got := c.retained(t, "pioreactor/"+unit+"/demo/bioreactor/"+v); got == "" {
				t.Errorf("no retained %s of %s", v, unit)
			}
		}
	}
}
