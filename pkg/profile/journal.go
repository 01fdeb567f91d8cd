package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/atomicfile"
)

// Run statuses in the journal.
const (
	StatusRunning     = "running"
	StatusFinished    = "finished"
	StatusStopped     = "stopped"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted" // the leader restarted mid-run; never resumed
)

// keepRuns bounds the journal: the recent list is for people, not an archive.
const keepRuns = 200

// RunInfo is one profile run as the journal keeps it.
type RunInfo struct {
	Seq         int64          `json:"seq"`
	JobID       int64          `json:"job_id"`
	Name        string         `json:"experiment_profile_name"`
	File        string         `json:"profile_filename"`
	Experiment  string         `json:"experiment"`
	StartedAt   string         `json:"started_at"`
	EndedAt     string         `json:"ended_at,omitempty"`
	Status      string         `json:"status"`
	DryRun      bool           `json:"dry_run"`
	ActionCount int            `json:"action_count"`
	Pending     int            `json:"pending"`
	Error       string         `json:"error,omitempty"`
	Settings    map[string]any `json:"-"`
}

// Journal records profile runs in a file, so a leader restart knows which runs it cut short.
type Journal struct {
	path string
	mu   sync.Mutex
	seq  int64
	runs []RunInfo
	// saved is when progress was last written (wall time: it paces disk writes, so a crash
	// leaves counts at most saveEvery old).
	saved time.Time
}

// saveEvery bounds how often progress alone is written to disk.
const saveEvery = time.Second

type journalFile struct {
	Seq  int64     `json:"seq"`
	Runs []RunInfo `json:"runs"`
}

// OpenJournal reads the journal and marks every run it finds still running as interrupted:
// those were cut short by a restart of the leader, and are not resumed. It returns them.
func OpenJournal(path, now string) (*Journal, []RunInfo, error) {
	j := &Journal{path: path}
	src, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return j, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("read profile journal: %w", err)
	}
	var f journalFile
	if err := json.Unmarshal(src, &f); err != nil {
		return nil, nil, fmt.Errorf("read profile journal %s: %w", path, err)
	}
	j.seq, j.runs = f.Seq, f.Runs
	var cut []RunInfo
	for i := range j.runs {
		if j.runs[i].Status == StatusRunning {
			j.runs[i].Status, j.runs[i].EndedAt = StatusInterrupted, now
			j.runs[i].Error = "the leader restarted during the run; its remaining actions were not run"
			cut = append(cut, j.runs[i])
		}
	}
	if len(cut) > 0 {
		if err := j.save(); err != nil {
			return nil, nil, err
		}
	}
	return j, cut, nil
}

func (j *Journal) save() error {
	if j.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(journalFile{Seq: j.seq, Runs: j.runs}, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o755); err != nil {
		return fmt.Errorf("save profile journal: %w", err)
	}
	if err := atomicfile.WriteFile(j.path, b, 0o644); err != nil {
		return fmt.Errorf("save profile journal: %w", err)
	}
	return nil
}

// Begin records a new running run and returns its sequence number.
func (j *Journal) Begin(r RunInfo) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	r.Seq, r.Status = j.seq, StatusRunning
	j.runs = append(j.runs, r)
	if len(j.runs) > keepRuns {
		j.runs = append([]RunInfo(nil), j.runs[len(j.runs)-keepRuns:]...)
	}
	return r.Seq, j.save()
}

// Progress updates a run's counters, writing them out at most every saveEvery.
func (j *Journal) Progress(seq int64, p Progress, settings map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.find(seq)
	if r == nil {
		return
	}
	changed := r.ActionCount != p.ActionCount
	r.ActionCount, r.Pending, r.Settings = p.ActionCount, p.Pending, settings
	if changed && time.Since(j.saved) >= saveEvery {
		j.saved = time.Now()
		_ = j.save() // best effort: Begin and End write what matters
	}
}

// End records how a run ended.
func (j *Journal) End(seq int64, status, endedAt string, err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.find(seq)
	if r == nil {
		return nil
	}
	r.Status, r.EndedAt, r.Settings = status, endedAt, nil
	if err != nil {
		r.Error = err.Error()
	}
	return j.save()
}

func (j *Journal) find(seq int64) *RunInfo {
	for i := range j.runs {
		if j.runs[i].Seq == seq {
			return &j.runs[i]
		}
	}
	return nil
}

// Running lists the running runs of an experiment ("" = all).
func (j *Journal) Running(exp string) []RunInfo {
	return j.list(exp, true)
}

// Recent lists the runs of an experiment ("" = all), newest first.
func (j *Journal) Recent(exp string) []RunInfo {
	return j.list(exp, false)
}

func (j *Journal) list(exp string, running bool) []RunInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []RunInfo{}
	for i := len(j.runs) - 1; i >= 0; i-- {
		r := j.runs[i]
		if (exp == "" || r.Experiment == exp) && (!running || r.Status == StatusRunning) {
			out = append(out, r)
		}
	}
	return out
}
