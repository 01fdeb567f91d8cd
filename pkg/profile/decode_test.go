package profile

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestSpecExampleIsValid(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, diags := Verify(src, Known{Jobs: []string{"stirring", "od_reading", "growth_rate_calculating", "dosing_automation",
		"temperature_automation"}, Units: []string{"worker1", "worker2"}})
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if p.Name != "grow-then-hold" || p.Author != "lab team" || len(p.Common) != 5 || len(p.Units) != 1 || p.Units[0].Label != "control" {
		t.Fatalf("decoded %+v", p)
	}
	// document order is kept
	var jobs []string
	for _, jb := range p.Common {
		jobs = append(jobs, jb.Job)
	}
	if got := strings.Join(jobs, ","); got != "stirring,od_reading,growth_rate_calculating,dosing_automation,temperature_automation" {
		t.Errorf("job order %s", got)
	}
	rep := p.Common[4].Actions[1]
	if rep.Type != Repeat || rep.At != 2*time.Hour || rep.Every != 30*time.Minute || rep.MaxTime != 3*time.Hour || rep.While.Expr == nil {
		t.Errorf("repeat %+v", rep)
	}
	if p.Inputs["base_rpm"] != 450 {
		t.Errorf("inputs %v", p.Inputs)
	}
}

func TestMinimalProfile(t *testing.T) {
	t.Parallel()
	_, diags := Load([]byte("version: \"1.0\"\nexperiment_profile_name: x\n"))
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
}

func TestTimeLiterals(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{"0.5": 30 * time.Minute, `"10s"`: 10 * time.Second, `"2m"`: 2 * time.Minute,
		`"1.5h"`: 90 * time.Minute, `"2d"`: 48 * time.Hour, `"30S"`: 30 * time.Second, "0": 0, `"1.5m"`: 90 * time.Second}
	for lit, want := range good {
		p, diags := Load([]byte("version: \"1.0\"\nexperiment_profile_name: x\ncommon:\n  jobs:\n    j:\n      actions:\n        - type: stop\n          t: " + lit + "\n"))
		if diags.Err() != nil || p.Common[0].Actions[0].At != want {
			t.Errorf("t: %s: %v, at %v, want %v", lit, diags, p.Common[0].Actions[0].At, want)
		}
	}
	bad := map[string]string{`"1 h"`: "time.invalid", `"bad"`: "time.invalid", `"-5m"`: "time.negative", `"1.5"`: "time.invalid",
		"-1": "time.negative", "true": "time.invalid", "[1]": "time.invalid"}
	for lit, code := range bad {
		_, diags := Load([]byte("version: \"1.0\"\nexperiment_profile_name: x\ncommon:\n  jobs:\n    j:\n      actions:\n        - type: stop\n          t: " + lit + "\n"))
		if !has(diags, code, "common.jobs.j.actions[0].t", 8) {
			t.Errorf("t: %s: %v, want %s on line 8", lit, diags, code)
		}
	}
}

// has reports a diagnostic with that code and path (any path if ""), on that line (any if 0).
func has(ds Diagnostics, code, path string, line int) bool {
	for _, d := range ds {
		if d.Code == code && (path == "" || d.Path == path) && (line == 0 || d.Line == line) {
			return true
		}
	}
	return false
}

const head = "version: \"1.0\"\nexperiment_profile_name: x\n"

// One case per diagnostic code.
func TestDiagnostics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, code, sev, path string
		line                       int
	}{
		{"yaml syntax", head + "common: [\n", "yaml.syntax", SevError, "", 3},
		{"time conflict", head + "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          hours_elapsed: 0\n",
			"action.time.conflict", SevError, "common.jobs.stirring.actions[0]", 7},
		{"time missing", head + "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n",
			"action.time.missing", SevError, "common.jobs.stirring.actions[0]", 7},
		{"nested time missing", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          actions:\n            - type: update\n              options: {a: 1}\n",
			"action.time.missing", SevError, "common.jobs.s.actions[0].actions[0]", 11},
		{"time invalid", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          t: 1 h\n",
			"time.invalid", SevError, "common.jobs.s.actions[0].t", 8},
		{"time negative", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          hours_elapsed: -1\n",
			"time.negative", SevError, "common.jobs.s.actions[0].hours_elapsed", 8},
		{"every zero", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 0s\n",
			"time.non_positive", SevError, "common.jobs.s.actions[0].every", 9},
		{"max_hours negative", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          max_hours: -2\n",
			"time.non_positive", SevError, "common.jobs.s.actions[0].max_hours", 10},
		{"repeat without every", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          actions: []\n",
			"repeat.every.missing", SevError, "common.jobs.s.actions[0]", 7},
		{"every ambiguous", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          repeat_every_hours: 1\n",
			"repeat.every.ambiguous", SevWarning, "common.jobs.s.actions[0]", 7},
		{"unreachable", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          actions:\n            - type: update\n              t: 2m\n              options: {a: 1}\n",
			"repeat.unreachable_action", SevWarning, "common.jobs.s.actions[0].actions[0].t", 11},
		{"when without condition", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: when\n          t: 0\n          actions: []\n",
			"when.condition.missing", SevError, "common.jobs.s.actions[0]", 7},
		{"when ambiguous", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: when\n          t: 0\n          wait_until: 1 == 1\n          condition: 1 == 1\n",
			"when.condition.ambiguous", SevWarning, "common.jobs.s.actions[0]", 7},
		{"bad if", head + "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0\n          if: \"1 % 1 and \"\n",
			"expression.syntax", SevError, "common.jobs.stirring.actions[0].if", 9},
		{"bad if in repeat child", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          actions:\n            - type: stop\n              t: 0\n              if: \"1 % 1 and \"\n",
			"expression.syntax", SevError, "common.jobs.s.actions[0].actions[0].if", 13},
		{"quoted string", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          t: 0\n          if: ::s:$state == 'ready'\n",
			"expression.syntax", SevError, "common.jobs.s.actions[0].if", 9},
		{"bad option expression", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: start\n          t: 0\n          options:\n            target_rpm: \"${{ 1 + }}\"\n",
			"expression.syntax", SevError, "common.jobs.s.actions[0].options.target_rpm", 10},
		{"bad log expression", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: log\n          t: 0\n          options:\n            message: \"at ${{ 1 + }}\"\n",
			"expression.syntax", SevError, "common.jobs.s.actions[0].options.message", 10},
		{"unary minus", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          t: 0\n          if: -1 + 2 > 0\n",
			"expression.unary_minus", SevWarning, "common.jobs.s.actions[0].if", 9},
		{"stop before start", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          t: 0\n        - type: start\n          t: 1h\n",
			"job.ordering.before_start", SevWarning, "common.jobs.s.actions[0]", 7},
		{"plugin version", head + "plugins:\n  - name: p\n    version: \"~=1.2\"\n",
			"plugin.version.invalid", SevError, "plugins[0].version", 5},
		{"unquoted version", "version: 1.0\nexperiment_profile_name: x\n", "version.invalid", SevError, "version", 1},
		{"version 2.0", "version: \"2.0\"\nexperiment_profile_name: x\n", "version.invalid", SevError, "version", 1},
		{"missing version", "experiment_profile_name: x\n", "version.missing", SevWarning, "version", 1},
		{"missing name", "version: \"1.0\"\n", "field.missing", SevError, "experiment_profile_name", 1},
		{"unit at top level", head + "worker1:\n  jobs: {}\n", "field.unknown", SevError, "worker1", 3},
		{"options on stop", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: stop\n          t: 0\n          options: {a: 1}\n",
			"field.unknown", SevError, "common.jobs.s.actions[0].options", 9},
		{"repeat in repeat", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          actions:\n            - type: repeat\n              t: 0\n              every: 1s\n",
			"repeat.nested", SevError, "common.jobs.s.actions[0].actions[0]", 11},
		{"unknown type", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: Start\n          t: 0\n",
			"action.type.unknown", SevError, "common.jobs.s.actions[0].type", 7},
		{"wrong type", head + "inputs: [1]\n", "field.type", SevError, "inputs", 3},
		{"log without message", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: log\n          t: 0\n          options: {level: INFO}\n",
			"log.message.missing", SevError, "common.jobs.s.actions[0].options", 7},
		{"log level", head + "common:\n  jobs:\n    s:\n      actions:\n        - type: log\n          t: 0\n          options: {message: m, level: Info}\n",
			"log.level.invalid", SevError, "common.jobs.s.actions[0].options.level", 7},
		{"led resume", head + "common:\n  jobs:\n    led_intensity:\n      actions:\n        - type: start\n          t: 0\n        - type: resume\n          t: 1\n",
			"led_intensity.unsupported", SevError, "common.jobs.led_intensity.actions[1]", 9},
		{"duplicate key", head + "common:\n  jobs:\n    s:\n      actions: []\n    s:\n      actions: []\n", "field.duplicate", SevError, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := Load([]byte(tc.src))
			for _, d := range diags {
				if d.Code == tc.code && (tc.path == "" || d.Path == tc.path) {
					if d.Severity != tc.sev || (tc.line != 0 && d.Line != tc.line) {
						t.Errorf("%s: severity %s line %d, want %s line %d", tc.code, d.Severity, d.Line, tc.sev, tc.line)
					}
					if d.Line == 0 || d.Column == 0 {
						t.Errorf("%s has no position: %+v", tc.code, d)
					}
					return
				}
			}
			t.Errorf("no %s at %q in %v", tc.code, tc.path, diags)
		})
	}
}

func TestUnknownJobAndUnit(t *testing.T) {
	t.Parallel()
	src := head + "common:\n  jobs:\n    stiring:\n      actions: []\npioreactors:\n  worker9:\n    jobs:\n      led_intensity:\n        actions: []\n"
	_, diags := Verify([]byte(src), Known{Jobs: []string{"stirring"}, Units: []string{"worker1"}})
	if !has(diags, "job.unknown", "common.jobs.stiring", 5) || !has(diags, "unit.unknown", "pioreactors.worker9", 8) {
		t.Fatalf("diagnostics: %v", diags)
	}
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("Err() = %v, want one naming line 5", err)
	}
}

func TestEmptyRepeatIsFine(t *testing.T) {
	t.Parallel()
	_, diags := Load([]byte(head + "common:\n  jobs:\n    s:\n      actions:\n        - type: repeat\n          t: 0\n          every: 1m\n          actions: []\n"))
	if len(diags) != 0 {
		t.Fatal(diags)
	}
}
