package ingest_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/ingest"
)

// The first failure is logged at once, the next ones at most once per FaultLogEvery with
// how many went unlogged; State names the failure from its first occurrence until OK.
func TestFaultLogsTheFirstAtOnceThenRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		f := ingest.NewFault("database write", slog.New(slog.NewTextHandler(&logs, nil)), nil)
		if _, failing := f.State(); failing {
			t.Fatal("a new Fault is failing")
		}
		start := time.Now()
		for range 5 {
			f.Fail(errors.New("no space left on device"))
			time.Sleep(time.Second)
		}
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
			t.Errorf("%d errors logged for 5 failures within a minute, want 1:\n%s", n, logs.String())
		}
		time.Sleep(ingest.FaultLogEvery)
		f.Fail(errors.New("input/output error"))
		if n := strings.Count(logs.String(), "level=ERROR"); n != 2 || !strings.Contains(logs.String(), "failures_not_logged=4") {
			t.Errorf("log after a minute:\n%s", logs.String())
		}
		st, failing := f.State()
		if want := (ingest.FaultState{What: "database write", Err: "input/output error", Since: start, Count: 6}); !failing || st != want {
			t.Errorf("State() = %+v, %v; want %+v, true", st, failing, want)
		}
		f.OK()
		if _, failing := f.State(); failing || !strings.Contains(logs.String(), "database write works again") {
			t.Errorf("after OK: failing %v, log:\n%s", failing, logs.String())
		}
	})
}
