package control

import (
	"math"
	"testing"
)

// Worked examples of docs/algorithms.md, "PID controller".
func TestPIDWorkedExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		pid        *PID
		inputs     []float64
		wantOutput []float64
	}{
		{"thermostat", NewPID(2.6, 0, 4.6, 30, -25, 25), []float64{28, 29, 29.5, 31}, []float64{5.2, -2.0, -1.0, -9.5}},
		{"stirring", NewPID(0.005, 0, 0, 500, -7.5, 7.5), []float64{450}, []float64{0.25}},
		{"morbidostat", NewPID(-1, 0, 0, 0.1, 0, 1), []float64{0.12, 0.15, 0.08}, []float64{0.02, 0.05, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for i, in := range tc.inputs {
				if got := tc.pid.Update(in, 1).Output; math.Abs(got-tc.wantOutput[i]) > 1e-9 {
					t.Errorf("update %d (input %v) = %v, want %v", i, in, got, tc.wantOutput[i])
				}
			}
		})
	}
}

func TestPIDAntiWindupClampsSum(t *testing.T) {
	t.Parallel()
	p := NewPID(-5, -1, 0, 0.1, 0, 1)
	if got := p.Update(0.3, 1).Output; math.Abs(got-1) > 1e-9 {
		t.Fatalf("first output %v, want 1.0 (clamped)", got)
	}
	if p.sum != 0 {
		t.Fatalf("sum %v, want 0", p.sum)
	}
	p.Update(0.05, 1)
	if math.Abs(p.sum-0.05) > 1e-12 {
		t.Fatalf("sum %v, want 0.05", p.sum)
	}
}

func TestEMA(t *testing.T) {
	t.Parallel()
	e := EMA{Alpha: 0.75}
	e.Update(1.0)
	if got := e.Update(0.96); math.Abs(got-0.99) > 1e-12 {
		t.Fatalf("EMA = %v, want 0.99", got)
	}
}
