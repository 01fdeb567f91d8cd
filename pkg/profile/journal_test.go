package profile

import (
	"path/filepath"
	"testing"
)

// A run the journal still shows running when the leader starts was cut short by a crash: it is
// reported interrupted, and stays so.
func TestJournalMarksRunsLeftRunningInterrupted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "runs.json")
	j, cut, err := OpenJournal(path, "t0")
	if err != nil || len(cut) != 0 {
		t.Fatal(err, cut)
	}
	done, _ := j.Begin(RunInfo{JobID: 1, Name: "a", Experiment: "e"})
	if err := j.End(done, StatusFinished, "t1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(RunInfo{JobID: 2, Name: "b", Experiment: "e"}); err != nil {
		t.Fatal(err)
	}
	j2, cut, err := OpenJournal(path, "t2")
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) != 1 || cut[0].Name != "b" || cut[0].Status != StatusInterrupted || cut[0].EndedAt != "t2" {
		t.Fatalf("cut %+v", cut)
	}
	recent := j2.Recent("e")
	if len(recent) != 2 || recent[0].Name != "b" || recent[0].Status != StatusInterrupted || recent[1].Status != StatusFinished {
		t.Errorf("recent %+v", recent)
	}
	if len(j2.Running("e")) != 0 {
		t.Errorf("a run is still running")
	}
	if _, cut, _ := OpenJournal(path, "t3"); len(cut) != 0 {
		t.Errorf("reported twice: %+v", cut)
	}
}
