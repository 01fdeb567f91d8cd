package jobs

import (
	"math"
	"testing"
	"time"
)

func TestOnGrid(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, tc := range []struct {
		name   string
		times  []time.Time
		values []float64
		want   []float64
	}{
		{"already on the grid", []time.Time{at(0), at(5), at(10)}, []float64{30, 29, 28}, []float64{30, 29, 28}},
		{"late readings are interpolated", []time.Time{at(0), at(7), at(10)}, []float64{30, 26.5, 25}, []float64{30, 27.5, 25}},
		{"a short run holds its last value", []time.Time{at(0), at(4)}, []float64{30, 28}, []float64{30, 28}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := onGrid(tc.times, tc.values, 5*time.Second)
			if len(got) != len(tc.want) {
				t.Fatalf("onGrid = %v (%d values), want %v", got, len(got), tc.want)
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-9 {
					t.Fatalf("onGrid = %v, want %v", got, tc.want)
				}
			}
		})
	}
}
