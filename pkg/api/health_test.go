package api

import (
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// sickUnit is a Unit reporting failing parts.
type sickUnit struct {
	*fakeUnit
	problems []Problem
}

func (u sickUnit) Problems() []Problem { return u.problems }

// Health says degraded, and names what fails and since when, while a part loses data; ok
// otherwise, in the original's shape.
func TestHealthReportsProblems(t *testing.T) {
	t.Parallel()
	since := contract.Timestamp(time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC))
	for _, c := range []struct {
		name     string
		problems []Problem
		want     string
	}{
		{"ok", nil, `{"status":"ok","pioreactor_unit":"pio01","utc_time":"2026-03-01T12:00:00.000Z"}`},
		{"spool failing", []Problem{{What: "outbox spool", Error: "no space left on device", Since: since, Count: 3}},
			`{"status":"degraded","pioreactor_unit":"pio01","utc_time":"2026-03-01T12:00:00.000Z","problems":[{"what":"outbox spool","error":"no space left on device","since":"2026-03-01T11:59:00.000Z","count":3}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newUnitServer(t, sickUnit{&fakeUnit{name: "pio01"}, c.problems}, &fakeClock{t: t0})
			status, body := call(t, srv.URL, "GET", "/unit_api/health", nil)
			if status != 200 || body != c.want {
				t.Errorf("health = %d %s\nwant 200 %s", status, body, c.want)
			}
		})
	}
}
