package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func names(exps []store.Experiment) []string {
	out := []string{}
	for _, e := range exps {
		out = append(out, e.Name)
	}
	return out
}

func TestExperimentCRUD(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	created := time.Date(2023, 10, 3, 9, 0, 0, 123_456_789, time.UTC)
	in := store.Experiment{Name: "exp3", CreatedAt: created, Description: "Third experiment",
		Tags: []string{" media: Rich media", "organism: Bacteria", "", "MEDIA: rich media", "archive  "}}
	if err := db.CreateExperiment(in); err != nil {
		t.Fatal(err)
	}
	got, err := db.Experiment("exp3")
	if err != nil {
		t.Fatal(err)
	}
	wantTags := []string{"media: Rich media", "organism: Bacteria", "archive"}
	if got.Name != "exp3" || got.Description != "Third experiment" || !slices.Equal(got.Tags, wantTags) {
		t.Errorf("Experiment = %+v, want tags %q", got, wantTags)
	}
	if want := created.Truncate(time.Millisecond); !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC (millisecond precision)", got.CreatedAt, want)
	}

	desc := "renamed"
	upd, err := db.UpdateExperiment("exp3", &desc, nil)
	if err != nil || upd.Description != "renamed" || !slices.Equal(upd.Tags, wantTags) {
		t.Errorf("UpdateExperiment(description) = %+v, %v", upd, err)
	}
	tags := []string{"b", "a", "B"}
	upd, err = db.UpdateExperiment("exp3", nil, &tags)
	if err != nil || upd.Description != "renamed" || !slices.Equal(upd.Tags, []string{"b", "a"}) {
		t.Errorf("UpdateExperiment(tags) = %+v, %v", upd, err)
	}
	if again, _ := db.Experiment("exp3"); !slices.Equal(again.Tags, upd.Tags) || again.Description != desc {
		t.Errorf("update not stored: %+v", again)
	}
	empty := []string{}
	if upd, _ := db.UpdateExperiment("exp3", nil, &empty); upd.Tags == nil || len(upd.Tags) != 0 {
		t.Errorf("clearing tags gave %#v, want empty non-nil", upd.Tags)
	}

	if err := db.DeleteExperiment("exp3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Experiment("exp3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Experiment after delete: %v, want ErrNotFound", err)
	}
}

func TestExperimentErrors(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1")
	desc := "x"
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"duplicate", func() error { return db.CreateExperiment(store.Experiment{Name: "exp1"}) }, store.ErrExists},
		{"empty name", func() error { return db.CreateExperiment(store.Experiment{}) }, store.ErrEmptyName},
		{"read unknown", func() error { _, err := db.Experiment("nope"); return err }, store.ErrNotFound},
		{"update unknown", func() error { _, err := db.UpdateExperiment("nope", &desc, nil); return err }, store.ErrNotFound},
		{"delete unknown", func() error { return db.DeleteExperiment("nope") }, store.ErrNotFound},
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

func TestExperimentOrdering(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	if _, err := db.LatestExperiment(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestExperiment of empty db: %v, want ErrNotFound", err)
	}
	// Inserted in this order; "late_insert_old_date" is newest by insertion, oldest by date.
	rows := []store.Experiment{
		{Name: "b", CreatedAt: at(10)},
		{Name: "a", CreatedAt: at(20)},
		{Name: "tie_first", CreatedAt: at(30)},
		{Name: "tie_second", CreatedAt: at(30)},
		{Name: "late_insert_old_date", CreatedAt: at(-100)},
	}
	for _, e := range rows {
		if err := db.CreateExperiment(e); err != nil {
			t.Fatal(err)
		}
	}
	list, err := db.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tie_second", "tie_first", "a", "b", "late_insert_old_date"}
	if !slices.Equal(names(list), want) {
		t.Errorf("Experiments = %v, want %v (newest created_at first, later insert on ties)", names(list), want)
	}
	latest, err := db.LatestExperiment()
	if err != nil || latest.Name != "late_insert_old_date" {
		t.Errorf("LatestExperiment = %q, %v; want the last inserted", latest.Name, err)
	}
	if err := db.DeleteExperiment("late_insert_old_date"); err != nil {
		t.Fatal(err)
	}
	if latest, _ := db.LatestExperiment(); latest.Name != "tie_second" {
		t.Errorf("LatestExperiment after deleting the latest = %q, want tie_second", latest.Name)
	}
}

func TestCreateExperimentDefaultsCreatedAt(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	if err := db.CreateExperiment(store.Experiment{Name: "now"}); err != nil {
		t.Fatal(err)
	}
	e, _ := db.Experiment("now")
	if !e.CreatedAt.After(t0) || e.Tags == nil {
		t.Errorf("Experiment = %+v: want created_at from the store's clock and non-nil tags", e)
	}
}

func TestDeleteExperimentCascades(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	mustCreate(t, db, "exp1", "exp2")
	mustWorkers(t, db, "unit1", "unit2", "unit3")
	mustAssign(t, db, "unit1", "exp1", at(1))
	mustAssign(t, db, "unit2", "exp1", at(2))
	mustAssign(t, db, "unit3", "exp2", at(3))
	for _, u := range []string{"unit1", "unit3"} {
		if err := db.SetUnitLabel("exp1", u, "L-"+u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetUnitLabel("exp2", "unit3", "keep"); err != nil {
		t.Fatal(err)
	}

	if err := db.DeleteExperiment("exp1"); err != nil {
		t.Fatal(err)
	}
	as, _ := db.Assignments()
	if len(as) != 1 || as[0].Unit != "unit3" || as[0].Experiment != "exp2" {
		t.Errorf("Assignments after delete = %+v, want only unit3 in exp2", as)
	}
	if ws, _ := db.Workers(); len(ws) != 3 {
		t.Errorf("workers were deleted with the experiment: %+v", ws)
	}
	hist, _ := db.AssignmentHistory("", "exp1")
	if len(hist) != 2 {
		t.Fatalf("history of exp1 = %+v, want 2 intervals kept", hist)
	}
	for _, iv := range hist {
		if iv.Current() {
			t.Errorf("interval %+v still open after its experiment was deleted", iv)
		}
	}
	if l, _ := db.UnitLabels("exp2"); l["unit3"] != "keep" {
		t.Errorf("labels of exp2 = %v, want untouched", l)
	}

	// A new experiment of the same name starts empty.
	mustCreate(t, db, "exp1")
	if l, _ := db.UnitLabels("exp1"); len(l) != 0 {
		t.Errorf("labels of recreated exp1 = %v, want none", l)
	}
	if ws, _ := db.AssignedWorkers("exp1"); len(ws) != 0 {
		t.Errorf("workers of recreated exp1 = %+v, want none", ws)
	}
}
