package store_test

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The store implements the supervisor's registry without importing supervisor outside tests.
var _ supervisor.Registry = (*store.Registry)(nil)

func jobIDs(rows []contract.JobRow) []int64 {
	ids := []int64{}
	for _, r := range rows {
		ids = append(ids, r.JobID)
	}
	return ids
}

func TestRegistryRoundTrip(t *testing.T) {
	t.Parallel()
	reg := openTest(t).Registry()
	names := []string{"stirring", "od_reading", "temperature_automation"}
	for i, n := range names {
		id, err := reg.Add(contract.JobRow{
			JobID: 99, Unit: "unit1", Experiment: "exp1", JobName: n, JobSource: "user",
			StartedAt: "2025-12-31T22:00:00.000Z", Leader: "leader", PID: 100 + i,
			IsLongRunningJob: 0, IsRunning: 0,
		})
		if err != nil {
			t.Fatalf("Add(%s): %v", n, err)
		}
		if id != int64(i+1) {
			t.Errorf("Add(%s) id = %d, want %d (row.JobID is ignored)", n, id, i+1)
		}
	}
	if err := reg.End(2, "2025-12-31T23:00:00.000Z"); err != nil {
		t.Fatalf("End: %v", err)
	}

	running, err := reg.Running()
	if err != nil {
		t.Fatal(err)
	}
	if got := jobIDs(running); fmt.Sprint(got) != "[1 3]" {
		t.Errorf("Running ids = %v, want [1 3]", got)
	}
	for _, r := range running {
		if r.IsRunning != 1 || r.EndedAt != nil {
			t.Errorf("running row %+v: want is_running=1, ended_at=nil", r)
		}
	}
	history, err := reg.History()
	if err != nil {
		t.Fatal(err)
	}
	if got := jobIDs(history); fmt.Sprint(got) != "[3 2 1]" {
		t.Errorf("History ids = %v, want [3 2 1] (newest first)", got)
	}
	ended := history[1]
	if ended.IsRunning != 0 || ended.EndedAt == nil || *ended.EndedAt != "2025-12-31T23:00:00.000Z" {
		t.Errorf("ended row = %+v", ended)
	}
	if ended.JobName != "od_reading" || ended.PID != 101 || ended.Leader != "leader" || ended.Unit != "unit1" {
		t.Errorf("ended row lost fields: %+v", ended)
	}

	if err := reg.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if running, _ := reg.Running(); len(running) != 0 {
		t.Errorf("Running after Reset = %v, want none", jobIDs(running))
	}
	history, _ = reg.History()
	for _, r := range history {
		if r.IsRunning != 0 {
			t.Errorf("job %d still running after Reset", r.JobID)
		}
	}
	if id, _ := reg.Add(contract.JobRow{JobName: "stirring"}); id != 4 {
		t.Errorf("Add after Reset id = %d, want 4 (never reused)", id)
	}
}

func TestRegistryErrors(t *testing.T) {
	t.Parallel()
	reg := openTest(t).Registry()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"End unknown", func() error { return reg.End(7, "2025-01-01T00:00:00.000Z") }, store.ErrNotFound},
		{"PutSetting unknown", func() error { return reg.PutSetting(7, "x", "1") }, store.ErrNotFound},
		{"Settings unknown", func() error { _, err := reg.Settings(7); return err }, store.ErrNotFound},
		{"PutSetting empty name", func() error { return reg.PutSetting(7, "", "1") }, store.ErrEmptyName},
		{"DeleteSetting unknown is fine", func() error { return reg.DeleteSetting(7, "x") }, nil},
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

func TestSettingsMirror(t *testing.T) {
	t.Parallel()
	reg := openTest(t).Registry()
	a, _ := reg.Add(contract.JobRow{JobName: "stirring"})
	b, _ := reg.Add(contract.JobRow{JobName: "od_reading"})
	steps := []struct {
		name   string
		apply  func() error
		wantA  map[string]string
		wantB  map[string]string
		remark string
	}{
		{"empty", func() error { return nil }, map[string]string{}, map[string]string{}, ""},
		{"put", func() error { return reg.PutSetting(a, "$state", "ready") },
			map[string]string{"$state": "ready"}, map[string]string{}, "settings are per job"},
		{"upsert", func() error { return reg.PutSetting(a, "$state", "sleeping") },
			map[string]string{"$state": "sleeping"}, map[string]string{}, ""},
		{"second", func() error { return reg.PutSetting(a, "target_rpm", "500.0") },
			map[string]string{"$state": "sleeping", "target_rpm": "500.0"}, map[string]string{}, ""},
		{"other job", func() error { return reg.PutSetting(b, "interval", "5.0") },
			map[string]string{"$state": "sleeping", "target_rpm": "500.0"}, map[string]string{"interval": "5.0"}, ""},
		{"delete", func() error { return reg.DeleteSetting(a, "target_rpm") },
			map[string]string{"$state": "sleeping"}, map[string]string{"interval": "5.0"}, ""},
		{"delete missing", func() error { return reg.DeleteSetting(a, "target_rpm") },
			map[string]string{"$state": "sleeping"}, map[string]string{"interval": "5.0"}, ""},
		{"empty value", func() error { return reg.PutSetting(a, "note", "") },
			map[string]string{"$state": "sleeping", "note": ""}, map[string]string{"interval": "5.0"}, ""},
		{"end keeps settings", func() error { return reg.End(b, "2025-12-31T23:00:00.000Z") },
			map[string]string{"$state": "sleeping", "note": ""}, map[string]string{"interval": "5.0"},
			"the supervisor clears them by publishing nulls"},
		{"reset drops running jobs' settings", reg.Reset,
			map[string]string{}, map[string]string{"interval": "5.0"}, ""},
	}
	// Steps build on each other, so they run in order within one parallel test.
	for _, s := range steps {
		if err := s.apply(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for id, want := range map[int64]map[string]string{a: s.wantA, b: s.wantB} {
			got, err := reg.Settings(id)
			if err != nil {
				t.Fatalf("%s: Settings(%d): %v", s.name, id, err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: Settings(%d) = %v, want %v %s", s.name, id, got, want, s.remark)
			}
		}
	}
}

// TestSettingsConcurrent drives the batched writes from many goroutines, as many jobs
// publishing at once do; run with -race.
func TestSettingsConcurrent(t *testing.T) {
	t.Parallel()
	reg := openTest(t).Registry()
	const jobs, settings = 8, 25
	ids := make([]int64, jobs)
	for i := range ids {
		ids[i], _ = reg.Add(contract.JobRow{JobName: fmt.Sprintf("job%d", i)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, jobs*(settings+1)+20)
	for _, id := range ids {
		wg.Go(func() {
			for s := range settings {
				errs <- reg.PutSetting(id, fmt.Sprintf("s%02d", s), fmt.Sprint(s))
			}
			errs <- reg.DeleteSetting(id, "s00")
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := reg.Running(); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		got, err := reg.Settings(id)
		if err != nil || len(got) != settings-1 || got["s24"] != "24" {
			t.Errorf("Settings(%d) = %d entries, %v", id, len(got), err)
		}
	}
}
