package descriptor

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// specs is a small job table: a job with settings, an automation family, and a job without UI.
func specs() []supervisor.Spec {
	return []supervisor.Spec{
		{Name: "stirring", UI: &supervisor.UI{DisplayName: "Stirring", Description: "Spins the bar.",
			Settings: []supervisor.Setting{
				{Name: "target_rpm", Datatype: contract.Float, Unit: "RPM", Settable: true, Display: true, Label: "Target speed",
					Min: supervisor.Float(0), Max: supervisor.Float(2000)},
				{Name: "measured_rpm", Datatype: contract.TypeMeasuredRPM, Unit: "RPM", Display: true, Label: "Measured speed"},
			}}},
		{Name: "temperature_automation", UI: &supervisor.UI{DisplayName: "Temperature automation",
			Automations: []supervisor.Automation{{Name: "thermostat", DisplayName: "Thermostat", Description: "Holds a temperature.",
				Fields: []supervisor.Field{{Key: "target_temperature", Label: "Target temperature", Unit: "℃", Default: 30}}}}}},
		{Name: "add_media"},
	}
}

func bounds() map[string]Bounds {
	capacity := 40.0
	return map[string]Bounds{contract.CurrentVolumeML: {Default: 14, Min: 0, Max: &capacity}}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./pkg/descriptor -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func write(t *testing.T, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBuiltinGolden(t *testing.T) {
	t.Parallel()
	s := Builtin(specs(), Options{Bioreactor: bounds(), Simulation: true})
	golden(t, "jobs", s.Jobs)
	golden(t, "settings", s.Collections)
	golden(t, "automations_temperature", s.Automations["temperature"])
	golden(t, "charts", s.Charts)
	if len(s.Jobs) != 2 {
		t.Errorf("jobs without UI are listed: %d jobs", len(s.Jobs))
	}
	if n := len(Builtin(specs(), Options{}).Charts); n != len(s.Charts)-2 {
		t.Errorf("simulation charts: %d without, %d with", n, len(s.Charts))
	}
}

// TestLoadOverrides: user and plugin files are read after the built-ins and replace them by
// key; a broken file is skipped with its path and line in the error log, the others load.
func TestLoadOverrides(t *testing.T) {
	t.Parallel()
	dot := t.TempDir()
	user, plugins := filepath.Join(dot, "ui"), filepath.Join(dot, "plugins", "ui")
	write(t, user, "jobs/stirring.yaml", `
job_name: stirring
display_name: Stirring (mine)
published_settings:
  - key: target_rpm
    type: numeric
    display: true
    label: Speed
    unit: RPM
`)
	write(t, plugins, "jobs/stirring.yaml", `
job_name: stirring
display_name: Stirring (plugin)
source: my_plugin
published_settings: []
`)
	write(t, plugins, "jobs/mixer.yml", "job_name: mixer\ndisplay_name: Mixer\n")
	write(t, plugins, "jobs/broken.yaml", "job_name: broken\ndisplay_name: [Broken\n")
	write(t, plugins, "jobs/bad_setting.yaml", "job_name: bad\ndisplay_name: Bad\npublished_settings:\n  - key: x\n    type: numeric\n    display: true\n")
	write(t, user, "settings/bioreactor.yaml", "key: bioreactor\ndisplay_name: Vial\npublished_settings:\n  - key: current_volume_ml\n    type: numeric\n    display: true\n    label: Volume\n    default: 99\n")
	write(t, user, "automations/temperature/thermostat.yaml", `
automation_name: thermostat
display_name: My thermostat
description: Mine.
fields:
  - key: target_temperature
    label: Target
    default: 37
    unit: ℃
`)
	write(t, user, "automations/dosing/select.yaml", "automation_name: picky\ndisplay_name: Picky\ndescription: x\nfields:\n  - key: mode\n    label: Mode\n    type: select\n")
	write(t, plugins, "charts/od.yaml", "chart_key: optical_density\ndata_source: od_readings\ntitle: OD (plugin)\nmqtt_topic: [od_reading/od1]\n")
	write(t, plugins, "charts/extra.yaml", "chart_key: extra\ndata_source: extra_table\ntitle: Extra\nmqtt_topic: extra/x\npayload_key: x\nlookback: 12\n")

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := Builtin(specs(), Options{Bioreactor: bounds()}).Load(log,
		Folder{Path: user, Source: "user"}, Folder{Path: plugins, Source: "plugins"})

	golden(t, "loaded_jobs", s.Jobs)
	golden(t, "loaded_settings", s.Collections[:1])
	golden(t, "loaded_automations_temperature", s.Automations["temperature"])
	if len(s.Automations["dosing"]) != 0 {
		t.Errorf("a select without options was loaded: %+v", s.Automations["dosing"])
	}
	var keys []string
	for _, c := range s.Charts {
		keys = append(keys, c.ChartKey+"="+c.Title)
	}
	if got := strings.Join(keys, ","); !strings.Contains(got, "optical_density=OD (plugin)") || !strings.HasSuffix(got, "extra=Extra") {
		t.Errorf("charts: %s", got)
	}
	for _, want := range []string{
		"broken.yaml line=2", // the parser's line
		"bad_setting.yaml line=4",
		"select.yaml line=5",
	} {
		file, line, _ := strings.Cut(want, " ")
		found := false
		for _, l := range strings.Split(logs.String(), "\n") {
			found = found || (strings.Contains(l, "level=ERROR") && strings.Contains(l, file) && strings.Contains(l, line))
		}
		if !found {
			t.Errorf("no error log naming %s at %s in:\n%s", file, line, logs.String())
		}
	}
}

// TestLoaderRereadsOnChange: the loader reads the files again when one changes, and only then.
func TestLoaderRereadsOnChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	l := NewLoader(Builtin(specs(), Options{}), slog.New(slog.NewTextHandler(&logs, nil)), Folder{Path: dir, Source: "user"})
	write(t, dir, "jobs/broken.yaml", "job_name: [x\n")
	l.Set()
	l.Set()
	if n := strings.Count(logs.String(), "broken.yaml"); n != 1 {
		t.Errorf("broken file logged %d times over two reads of unchanged files", n)
	}
	write(t, dir, "jobs/mixer.yaml", "job_name: mixer\ndisplay_name: Mixer\n")
	found := false
	for _, j := range l.Set().Jobs {
		found = found || j.JobName == "mixer"
	}
	if !found {
		t.Error("a new file was not read")
	}
}
