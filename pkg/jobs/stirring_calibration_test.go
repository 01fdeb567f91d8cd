package jobs

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// The reference's worked example: calibration RPM = 10·DC − 5, target 500.
func TestStirringLookup(t *testing.T) {
	t.Parallel()
	c := &calibration.Calibration{Type: calibration.TypeStirring, Name: "c", Curve: calibration.PolyCurve(10, -5), X: "DC %", Y: "RPM"}
	s := &Stirring{useRPM: true, target: 500}
	if err := s.useCalibration(c); err != nil {
		t.Fatal(err)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	if !near(s.est, 53.025) {
		t.Fatalf("start estimate %v, want 53.025", s.est)
	}
	s.est = s.lookup(600)
	if !near(s.est, 62.740125) {
		t.Fatalf("after target 600: %v, want 62.740125", s.est)
	}
	if got := s.lookup(600); !near(got, 63.760213125) {
		t.Fatalf("lookup(600) %v", got)
	}
	if got := s.lookup(700); !near(got, 73.210213125) {
		t.Fatalf("lookup(700) %v", got)
	}
	// Without a calibration the estimate stays.
	u := &Stirring{useRPM: true, target: 500, est: 30}
	if err := u.useCalibration(nil); err != nil || u.lookup(800) != 30 {
		t.Fatalf("uncalibrated lookup %v, %v", u.lookup(800), err)
	}
}

func TestDodgeWait(t *testing.T) {
	t.Parallel()
	at := func(s float64) time.Time { return time.Unix(0, 0).Add(seconds(s)) }
	for _, c := range []struct {
		i, t0, now, p, q, a, want float64
	}{
		{5, 100, 112, 1.5, 0.5, 0.2, 1.5},
		{10, 100, 107.5, 1.0, 0.5, 0.1, 1.5},
	} {
		got, err := dodgeWait(seconds(c.i), at(c.t0), at(c.now), seconds(c.p), seconds(c.q), seconds(c.a))
		if err != nil || math.Abs(got.Seconds()-c.want) > 1e-9 {
			t.Errorf("%+v: %v, %v; want %v s", c, got, err, c.want)
		}
	}
	if got := timeToNextOD(seconds(5), at(100), at(105)); got != seconds(5) {
		t.Errorf("on a boundary: %v, want the full interval", got)
	}
	if _, err := dodgeWait(seconds(4), at(0), at(1), seconds(1.5), seconds(1.5), seconds(0.6)); !errors.Is(err, ErrDodgingTiming) {
		t.Errorf("no budget: %v", err)
	}
}
