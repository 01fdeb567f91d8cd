package store

import (
	"errors"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

type stoppedClock struct{ clock.Real }

func (stoppedClock) Now() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// A failing store reports its first failure and the rows lost since, until a commit works.
func TestWriteFailureUntilACommitWorks(t *testing.T) {
	t.Parallel()
	db := &DB{clock: stoppedClock{}, fault: &writeFault{}}
	if _, failing := db.WriteFailure(); failing {
		t.Fatal("a new store reports a write failure")
	}
	db.noteCommit(3, errors.New("no space left on device"))
	db.noteCommit(2, errors.New("input/output error"))
	f, failing := db.WriteFailure()
	want := WriteFailure{Err: "input/output error", Since: stoppedClock{}.Now(), Rows: 5}
	if !failing || f != want {
		t.Errorf("WriteFailure() = %+v, %v; want %+v, true", f, failing, want)
	}
	db.noteCommit(1, nil)
	if _, failing := db.WriteFailure(); failing {
		t.Error("still failing after a commit worked")
	}
}
