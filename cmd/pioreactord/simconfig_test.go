package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// TestSimConfigFiles: a --sim run without --config serves a valid shared config from the
// data dir, written once from the template and kept (with the user's edits) afterwards.
func TestSimConfigFiles(t *testing.T) {
	t.Parallel()
	o := options{sim: true, role: "both", unit: "leader1", dataDir: filepath.Join(t.TempDir(), "data")}
	shared, unit, err := simConfigFiles(o)
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	if err := config.ValidateShared(text); err != nil {
		t.Fatalf("the simulation's config.ini does not validate: %v", err)
	}
	c, err := config.Load(shared, unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][3]string{
		{"cluster.topology", "leader_hostname", "leader1"},
		{"cluster.topology", "leader_address", "127.0.0.1"},
		{"ui.overview.charts", "simulation_true_growth_rate", "1"},
		{"ui.overview.charts", "optical_density", "1"},
	} {
		if got := c.String(kv[0], kv[1], ""); got != kv[2] {
			t.Errorf("[%s] %s = %q, want %q", kv[0], kv[1], got, kv[2])
		}
	}
	if !c.HasSection("simulation") {
		t.Error("no [simulation] section")
	}
	edited := append(text, []byte("\n# mine\n")...)
	if err := os.WriteFile(shared, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := simConfigFiles(o); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(shared); string(again) != string(edited) {
		t.Error("a second start rewrote the user's config.ini")
	}
}
