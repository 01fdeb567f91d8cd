package api

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// descriptorSpecs is a unit's job table as the descriptors see it.
func descriptorSpecs(label string) []supervisor.Spec {
	return []supervisor.Spec{
		{Name: "stirring", UI: &supervisor.UI{DisplayName: "Stirring " + label, Settings: []supervisor.Setting{
			{Name: "target_rpm", Datatype: contract.Float, Unit: "RPM", Settable: true, Display: true, Label: "Target speed"}}}},
		{Name: "dosing_automation", UI: &supervisor.UI{DisplayName: "Dosing automation", Automations: []supervisor.Automation{
			{Name: "chemostat", DisplayName: "Chemostat", Description: "Constant dilution.",
				Fields: []supervisor.Field{{Key: "duration", Label: "Time between dilutions", Unit: "min", Default: 20}}}}}},
	}
}

// TestDescriptorRoutes: a unit serves its own descriptors, a plugin file overrides a
// built-in, a broken file is skipped (and logged with its line); the leader serves its own
// and proxies a worker's, refusing $broadcast.
func TestDescriptorRoutes(t *testing.T) {
	t.Parallel()
	plugins := filepath.Join(t.TempDir(), "plugins", "ui")
	for rel, text := range map[string]string{
		"jobs/stirring.yaml":                    "job_name: stirring\ndisplay_name: Stirring (plugin)\nsource: stir_plugin\npublished_settings:\n  - key: target_rpm\n    type: numeric\n    display: true\n    label: Speed\n    unit: RPM\n",
		"jobs/broken.yaml":                      "job_name: broken\npublished_settings:\n  - key: [x\n",
		"automations/dosing/slow.yaml":          "automation_name: slow\ndisplay_name: Slow\ndescription: Doses slowly.\nfields:\n  - key: rate\n    label: Rate\n    unit: mL/h\n    default: 1\n",
		"charts/plugin_chart.yaml":              "chart_key: plugin_chart\ndata_source: plugin_table\ntitle: Plugin chart\nmqtt_topic: plugin/value\npayload_key: value\n",
		"automations/temperature/nameless.yaml": "display_name: Nameless\n",
	} {
		p := filepath.Join(plugins, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	set := func(label string) func() descriptor.Set {
		return func() descriptor.Set {
			return descriptor.Builtin(descriptorSpecs(label), descriptor.Options{}).Load(log,
				descriptor.Folder{Path: plugins, Source: "plugins"})
		}
	}
	clk := &fakeClock{t: t0}
	w, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Now: clk.Now, Descriptors: set("of pio01")})
	if err != nil {
		t.Fatal(err)
	}
	wsrv := httptest.NewServer(w.Handler())
	t.Cleanup(func() { wsrv.Close(); w.Close() })
	st := newFakeStore()
	for _, u := range []string{"pio01", "dead"} {
		_ = st.PutWorker(store.Worker{Unit: u, AddedAt: t0})
	}
	cl := cluster.New(cluster.Config{PollInterval: 5 * time.Millisecond, SendTimeout: time.Second, Resolve: func(unit string) (string, error) {
		if unit == "pio01" {
			return wsrv.URL, nil
		}
		return "http://127.0.0.1:1", nil
	}})
	l, err := New(Config{Unit: &fakeUnit{name: "leader"}, Now: clk.Now, Descriptors: set("of the leader"),
		Leader: &Leader{Store: st, Publisher: &fakePublisher{}, Cluster: cl}})
	if err != nil {
		t.Fatal(err)
	}
	lsrv := httptest.NewServer(l.Handler())
	t.Cleanup(func() { lsrv.Close(); l.Close() })

	for _, c := range []struct {
		golden, base, path string
		status             int
	}{
		{"descriptors_unit_jobs", wsrv.URL, "/unit_api/jobs/descriptors", 200},
		{"descriptors_unit_settings", wsrv.URL, "/unit_api/settings/descriptors", 200},
		{"descriptors_unit_automations_dosing", wsrv.URL, "/unit_api/automations/descriptors/dosing", 200},
		{"descriptors_leader_jobs", lsrv.URL, "/api/jobs/descriptors", 200},
		{"descriptors_leader_settings", lsrv.URL, "/api/settings/descriptors", 200},
		{"descriptors_leader_automations_temperature", lsrv.URL, "/api/automations/descriptors/temperature", 200},
		{"descriptors_charts", lsrv.URL, "/api/charts/descriptors", 200},
		{"descriptors_broadcast", lsrv.URL, "/api/workers/$broadcast/jobs/descriptors", 400},
		{"", lsrv.URL, "/api/workers/$broadcast/settings/descriptors", 400},
		{"", lsrv.URL, "/api/workers/%24broadcast/automations/descriptors/dosing", 400},
		{"", lsrv.URL, "/api/workers/nosuch/jobs/descriptors", 400},
		{"", lsrv.URL, "/api/workers/dead/jobs/descriptors", 502},
		{"", lsrv.URL, "/api/automations/descriptors/pumps", 400},
		{"", lsrv.URL, "/api/workers/pio01/automations/descriptors/pumps", 400},
		{"", wsrv.URL, "/unit_api/automations/descriptors/pumps", 400},
	} {
		status, body := call(t, c.base, "GET", c.path, nil)
		if status != c.status {
			t.Errorf("GET %s: %d %s, want %d", c.path, status, body, c.status)
			continue
		}
		if c.golden != "" {
			checkGolden(t, c.golden, body)
		}
	}
	// The leader's proxy answers the worker's own list, untouched.
	for _, p := range []string{"jobs/descriptors", "settings/descriptors", "automations/descriptors/dosing",
		"automations/descriptors/temperature", "automations/descriptors/led"} {
		_, direct := call(t, wsrv.URL, "GET", "/unit_api/"+p, nil)
		_, proxied := call(t, lsrv.URL, "GET", "/api/workers/pio01/"+p, nil)
		if direct != proxied {
			t.Errorf("%s: proxied %s, the worker says %s", p, proxied, direct)
		}
		if status, own := call(t, lsrv.URL, "GET", "/api/workers/leader/"+p, nil); status != 200 || !strings.HasPrefix(own, "[") {
			t.Errorf("%s of the leader itself: %d %s", p, status, own)
		}
	}
	_, body := call(t, lsrv.URL, "GET", "/api/workers/$broadcast/jobs/descriptors", nil)
	if !strings.Contains(body, `"Cannot fetch job descriptors with $broadcast; choose a specific Pioreactor."`) {
		t.Errorf("$broadcast: %s", body)
	}
	for _, file := range []string{"broken.yaml", "nameless.yaml"} {
		if !strings.Contains(logs.String(), file) {
			t.Errorf("no error logged for %s:\n%s", file, logs.String())
		}
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("broken.yaml line=%d", 3)) {
		t.Errorf("broken.yaml's line is not 3:\n%s", logs.String())
	}
}

// testDescriptors are a unit's built-in descriptors, without ui/ folders.
func testDescriptors(unit string) func() descriptor.Set {
	return func() descriptor.Set {
		return descriptor.Builtin(descriptorSpecs("of "+unit), descriptor.Options{Simulation: true})
	}
}
