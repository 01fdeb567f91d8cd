package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestAssignReplacesPrevious(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	mustWorkers(t, db, "unit1")

	if prev := mustAssign(t, db, "unit1", "exp1", at(1)); prev != "" {
		t.Errorf("first Assign previous = %q, want none", prev)
	}
	if prev := mustAssign(t, db, "unit1", "exp1", at(2)); prev != "exp1" {
		t.Errorf("same Assign previous = %q, want exp1", prev)
	}
	if prev := mustAssign(t, db, "unit1", "exp2", at(3)); prev != "exp1" {
		t.Errorf("moving Assign previous = %q, want exp1", prev)
	}
	a, err := db.AssignmentOf("unit1")
	if err != nil || a.Experiment != "exp2" || !a.AssignedAt.Equal(at(3)) {
		t.Errorf("AssignmentOf = %+v, %v", a, err)
	}
	if ws, _ := db.AssignedWorkers("exp1"); len(ws) != 0 {
		t.Errorf("exp1 still has %v", units(ws))
	}
	if ws, _ := db.AssignedWorkers("exp2"); !slices.Equal(units(ws), []string{"unit1"}) || !ws[0].IsActive {
		t.Errorf("AssignedWorkers(exp2) = %+v", ws)
	}

	hist, err := db.AssignmentHistory("unit1", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AssignmentInterval{
		{Unit: "unit1", Experiment: "exp1", AssignedAt: at(1), UnassignedAt: at(3)},
		{Unit: "unit1", Experiment: "exp2", AssignedAt: at(3)},
	}
	if !equalIntervals(hist, want) {
		t.Errorf("history = %+v\nwant      %+v (re-assigning to the same experiment is a no-op)", hist, want)
	}
}

func equalIntervals(a, b []store.AssignmentInterval) bool {
	return slices.EqualFunc(a, b, func(x, y store.AssignmentInterval) bool {
		return x.Unit == y.Unit && x.Experiment == y.Experiment &&
			x.AssignedAt.Equal(y.AssignedAt) && x.UnassignedAt.Equal(y.UnassignedAt)
	})
}

func TestAssignmentErrors(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	mustWorkers(t, db, "unit1", "idle")
	mustAssign(t, db, "unit1", "exp1", at(1))
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"assign unknown worker", func() error { _, err := db.Assign("ghost", "exp1", at(2)); return err }, store.ErrUnknownWorker},
		{"assign unknown experiment", func() error { _, err := db.Assign("unit1", "ghost", at(2)); return err }, store.ErrUnknownExperiment},
		{"assign both unknown names the worker", func() error { _, err := db.Assign("ghost", "ghost", at(2)); return err }, store.ErrUnknownWorker},
		{"unassign unknown worker", func() error { return db.Unassign("ghost", "exp1") }, store.ErrUnknownWorker},
		{"unassign from other experiment", func() error { return db.Unassign("unit1", "exp2") }, store.ErrNotAssigned},
		{"unassign idle worker", func() error { return db.Unassign("idle", "exp1") }, store.ErrNotAssigned},
		{"assignment of unknown worker", func() error { _, err := db.AssignmentOf("ghost"); return err }, store.ErrUnknownWorker},
		{"assignment of idle worker", func() error { _, err := db.AssignmentOf("idle"); return err }, store.ErrNotAssigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
	// None of the failures changed anything.
	if a, err := db.AssignmentOf("unit1"); err != nil || a.Experiment != "exp1" {
		t.Errorf("AssignmentOf(unit1) = %+v, %v", a, err)
	}
}

func TestUnassign(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	mustWorkers(t, db, "unit1", "unit2", "unit3", "unit4")
	for i, u := range []string{"unit3", "unit1", "unit2"} {
		mustAssign(t, db, u, "exp1", at(i))
	}
	mustAssign(t, db, "unit4", "exp2", at(5))

	if err := db.Unassign("unit2", "exp1"); err != nil {
		t.Fatal(err)
	}
	got, err := db.UnassignAll("exp1")
	if err != nil || !slices.Equal(got, []string{"unit1", "unit3"}) {
		t.Errorf("UnassignAll(exp1) = %v, %v; want [unit1 unit3]", got, err)
	}
	if got, err := db.UnassignAll("exp1"); err != nil || len(got) != 0 {
		t.Errorf("second UnassignAll = %v, %v; want none", got, err)
	}
	if got, err := db.UnassignAll("nope"); err != nil || len(got) != 0 {
		t.Errorf("UnassignAll(unknown) = %v, %v; want none", got, err)
	}
	as, _ := db.Assignments()
	if len(as) != 1 || as[0].Unit != "unit4" {
		t.Errorf("Assignments = %+v, want only unit4", as)
	}
	for _, iv := range mustHistory(t, db, "", "exp1") {
		if iv.Current() {
			t.Errorf("interval %+v left open", iv)
		}
	}

	mustAssign(t, db, "unit1", "exp2", at(9))
	cleared, err := db.ClearAssignments()
	if err != nil || len(cleared) != 2 || cleared[0].Unit != "unit1" || cleared[1].Unit != "unit4" {
		t.Errorf("ClearAssignments = %+v, %v", cleared, err)
	}
	if as, _ := db.Assignments(); len(as) != 0 {
		t.Errorf("Assignments after clear = %+v", as)
	}
}

func mustHistory(t *testing.T, db *store.DB, unit, exp string) []store.AssignmentInterval {
	t.Helper()
	h, err := db.AssignmentHistory(unit, exp)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAssignmentHistoryFilters(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	mustWorkers(t, db, "unit1", "unit2")
	mustAssign(t, db, "unit1", "exp1", at(1))
	mustAssign(t, db, "unit2", "exp1", at(2))
	mustAssign(t, db, "unit1", "exp2", at(3))
	if err := db.Unassign("unit2", "exp1"); err != nil {
		t.Fatal(err)
	}
	mustAssign(t, db, "unit2", "exp1", at(4))

	tests := []struct {
		unit, exp string
		want      []string // unit/experiment/current
	}{
		{"", "", []string{"unit1/exp1/false", "unit2/exp1/false", "unit1/exp2/true", "unit2/exp1/true"}},
		{"", "exp1", []string{"unit1/exp1/false", "unit2/exp1/false", "unit2/exp1/true"}},
		{"unit1", "", []string{"unit1/exp1/false", "unit1/exp2/true"}},
		{"unit2", "exp2", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.unit+"_"+tt.exp, func(t *testing.T) {
			t.Parallel()
			got := []string{}
			for _, iv := range mustHistory(t, db, tt.unit, tt.exp) {
				cur := "false"
				if iv.Current() {
					cur = "true"
				}
				got = append(got, iv.Unit+"/"+iv.Experiment+"/"+cur)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("AssignmentHistory(%q, %q) = %v, want %v", tt.unit, tt.exp, got, tt.want)
			}
		})
	}
}

func TestAssignDefaultsToNow(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1")
	mustWorkers(t, db, "unit1")
	mustAssign(t, db, "unit1", "exp1", time.Time{})
	a, _ := db.AssignmentOf("unit1")
	if !a.AssignedAt.After(t0) {
		t.Errorf("AssignedAt = %v, want the store clock's now", a.AssignedAt)
	}
}
