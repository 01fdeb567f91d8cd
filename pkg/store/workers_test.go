package store_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func units(ws []store.Worker) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Unit)
	}
	return out
}

func TestWorkersInventory(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	if ws, err := db.Workers(); err != nil || ws == nil || len(ws) != 0 {
		t.Errorf("Workers of empty db = %#v, %v; want empty non-nil", ws, err)
	}
	mustWorkers(t, db, "unit3", "Unit2", "unit1", "unit10")
	ws, err := db.Workers()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Unit2", "unit1", "unit10", "unit3"}; !slices.Equal(units(ws), want) {
		t.Errorf("Workers order = %v, want %v (bytewise by name)", units(ws), want)
	}

	// A registered worker is active, whatever the caller passed; AddedAt is kept.
	if err := db.PutWorker(store.Worker{Unit: "unit9", AddedAt: at(7), IsActive: false, ModelName: "pioreactor_40ml", ModelVersion: "1.5"}); err != nil {
		t.Fatal(err)
	}
	w, err := db.Worker("unit9")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Worker{Unit: "unit9", AddedAt: at(7), IsActive: true, ModelName: "pioreactor_40ml", ModelVersion: "1.5"}); !w.AddedAt.Equal(want.AddedAt) ||
		w.Unit != want.Unit || w.IsActive != want.IsActive || w.ModelName != want.ModelName || w.ModelVersion != want.ModelVersion {
		t.Errorf("Worker = %+v, want %+v", w, want)
	}

	if err := db.SetWorkerActive("unit9", false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetWorkerModel("unit9", "pioreactor_20ml", "1.1"); err != nil {
		t.Fatal(err)
	}
	w, _ = db.Worker("unit9")
	if w.IsActive || w.ModelName != "pioreactor_20ml" || w.ModelVersion != "1.1" || !w.AddedAt.Equal(at(7)) {
		t.Errorf("after SetWorkerActive/Model: %+v", w)
	}

	// Re-registering reactivates and overwrites, but keeps the assignment.
	mustCreate(t, db, "exp1")
	mustAssign(t, db, "unit9", "exp1", at(8))
	mustWorkers(t, db, "unit9")
	w, _ = db.Worker("unit9")
	if !w.IsActive || w.ModelName != "pioreactor_20ml" {
		t.Errorf("after re-register: %+v", w)
	}
	if a, err := db.AssignmentOf("unit9"); err != nil || a.Experiment != "exp1" {
		t.Errorf("assignment after re-register = %+v, %v", a, err)
	}
}

func TestWorkerErrors(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"read unknown", func() error { _, err := db.Worker("nope"); return err }, store.ErrNotFound},
		{"delete unknown", func() error { return db.DeleteWorker("nope") }, store.ErrNotFound},
		{"activate unknown", func() error { return db.SetWorkerActive("nope", true) }, store.ErrNotFound},
		{"model unknown", func() error { return db.SetWorkerModel("nope", "m", "1") }, store.ErrNotFound},
		{"empty name", func() error { return db.PutWorker(store.Worker{}) }, store.ErrEmptyName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeleteWorkerCascades(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1")
	mustWorkers(t, db, "unit1", "unit2")
	mustAssign(t, db, "unit1", "exp1", at(1))
	mustAssign(t, db, "unit2", "exp1", at(2))
	if err := db.SetUnitLabel("exp1", "unit1", "Reactor 1"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWorker("unit1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Worker("unit1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Worker after delete: %v", err)
	}
	if ws, _ := db.AssignedWorkers("exp1"); !slices.Equal(units(ws), []string{"unit2"}) {
		t.Errorf("AssignedWorkers = %v, want [unit2]", units(ws))
	}
	hist, _ := db.AssignmentHistory("unit1", "")
	if len(hist) != 1 || hist[0].Current() {
		t.Errorf("history of deleted worker = %+v, want one closed interval", hist)
	}
	if l, _ := db.UnitLabels("exp1"); l["unit1"] != "Reactor 1" {
		t.Errorf("labels = %v: a label belongs to the experiment and outlives the worker", l)
	}
}
