package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A config save runs the jobs' own checks: a stirring period the stirring job would refuse
// at start (under 1 s), which config.Validate lets through as a number, is a 400 naming
// the key.
func TestConfigSaveRefusesWhatAJobWouldRefuse(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "--units", "0")
	for _, tc := range []struct {
		value  string
		status int
	}{
		{"0.5", 400},
		{"5", 200},
	} {
		body, _ := json.Marshal(map[string]string{"code": "[stirring.config]\nduration_between_updates_seconds=" + tc.value + "\n"})
		status, out := c.call(t, "PATCH", "/api/config/units/leader/specific", string(body))
		if status != tc.status {
			t.Errorf("duration_between_updates_seconds=%s: %d %v, want %d", tc.value, status, out, tc.status)
		}
		if msg, _ := out["error"].(string); tc.status == 400 && !strings.Contains(msg, "[stirring.config] duration_between_updates_seconds") {
			t.Errorf("the refusal does not name the key: %v", out)
		}
	}
}
