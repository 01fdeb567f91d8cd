package store_test

import (
	"errors"
	"maps"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestUnitLabels(t *testing.T) {
	t.Parallel()
	type set struct{ exp, unit, label string }
	tests := []struct {
		name string
		sets []set
		want map[string]map[string]string // experiment -> labels
	}{
		{"set", []set{{"exp1", "unit1", "Reactor 1"}},
			map[string]map[string]string{"exp1": {"unit1": "Reactor 1"}, "exp2": {}}},
		{"relabel", []set{{"exp1", "unit1", "A"}, {"exp1", "unit1", "B"}},
			map[string]map[string]string{"exp1": {"unit1": "B"}}},
		{"empty deletes", []set{{"exp1", "unit1", "A"}, {"exp1", "unit2", "B"}, {"exp1", "unit1", ""}},
			map[string]map[string]string{"exp1": {"unit2": "B"}}},
		{"delete unlabelled is fine", []set{{"exp1", "unit1", ""}},
			map[string]map[string]string{"exp1": {}}},
		{"label taken from its holder", []set{{"exp1", "unit1", "A"}, {"exp1", "unit2", "A"}},
			map[string]map[string]string{"exp1": {"unit2": "A"}}},
		{"same label in another experiment", []set{{"exp1", "unit1", "A"}, {"exp2", "unit2", "A"}},
			map[string]map[string]string{"exp1": {"unit1": "A"}, "exp2": {"unit2": "A"}}},
		{"labels are case-sensitive", []set{{"exp1", "unit1", "a"}, {"exp1", "unit2", "A"}},
			map[string]map[string]string{"exp1": {"unit1": "a", "unit2": "A"}}},
		{"unit need not be a worker", []set{{"exp1", "not_in_inventory", "X"}},
			map[string]map[string]string{"exp1": {"not_in_inventory": "X"}}},
		{"unknown experiment reads empty", nil,
			map[string]map[string]string{"nope": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openTest(t)
			mustCreate(t, db, "exp1", "exp2")
			for _, s := range tt.sets {
				if err := db.SetUnitLabel(s.exp, s.unit, s.label); err != nil {
					t.Fatalf("SetUnitLabel(%+v): %v", s, err)
				}
			}
			for exp, want := range tt.want {
				got, err := db.UnitLabels(exp)
				if err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(got, want) {
					t.Errorf("UnitLabels(%s) = %v, want %v", exp, got, want)
				}
			}
		})
	}
}

func TestUnitLabelErrors(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1")
	if err := db.SetUnitLabel("nope", "unit1", "A"); !errors.Is(err, store.ErrUnknownExperiment) {
		t.Errorf("label in unknown experiment: %v, want ErrUnknownExperiment", err)
	}
	if err := db.SetUnitLabel("exp1", "", "A"); !errors.Is(err, store.ErrEmptyName) {
		t.Errorf("label of empty unit: %v, want ErrEmptyName", err)
	}
}
