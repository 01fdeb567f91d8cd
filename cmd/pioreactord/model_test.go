package main

import (
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// TestUnitModel: the model the leader sends is the unit's, and still is after a restart; the
// process's MODEL_NAME/MODEL_VERSION override it; a unit told nothing does not know.
func TestUnitModel(t *testing.T) {
	t.Parallel()
	v10 := contract.Model{Name: "pioreactor_20ml", Version: "1.0"}
	xr := contract.Model{Name: "pioreactor_40ml_XR", Version: "1.5"}
	for _, c := range []struct {
		name       string
		env        contract.Model
		set        *contract.Model // what the leader sends, if anything
		want       contract.Model  // before and after a restart
		wantBefore contract.Model  // before the leader sends it
	}{
		{"told nothing", contract.Model{}, nil, contract.Model{}, contract.Model{}},
		{"the leader's", contract.Model{}, &xr, xr, contract.Model{}},
		{"the environment's over the leader's", v10, &xr, v10, v10},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "model.json")
			m, err := openUnitModel(path, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Model(); got != c.wantBefore {
				t.Fatalf("before: %+v, want %+v", got, c.wantBefore)
			}
			if c.set != nil {
				if err := (unitAPI{u: &unit{model: m}}).SetModel(*c.set); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.Model(); got != c.want {
				t.Fatalf("%+v, want %+v", got, c.want)
			}
			again, err := openUnitModel(path, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := again.Model(); got != c.want {
				t.Fatalf("after a restart: %+v, want %+v", got, c.want)
			}
		})
	}
}
