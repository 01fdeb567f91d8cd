package clock

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		min  time.Duration
		want time.Duration
		ok   bool
	}{
		{5, 500 * time.Millisecond, 5 * time.Second, true},
		{0.5, 500 * time.Millisecond, 500 * time.Millisecond, true},
		{0.4, 500 * time.Millisecond, 0, false},
		{1e-320, 500 * time.Millisecond, 0, false},
		{0, 0, 0, true},
		{-1, 0, 0, false},
		{1e308, 0, 0, false},
		{366 * 24 * 3600, 0, 0, false},
		{math.NaN(), 0, 0, false},
		{math.Inf(1), 0, 0, false},
		{math.Inf(-1), 0, 0, false},
	} {
		got, err := Seconds(tc.in, tc.min)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Seconds(%v, %v) = %v, %v; want %v, ok=%v", tc.in, tc.min, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrDuration) {
			t.Errorf("Seconds(%v): error %v does not wrap ErrDuration", tc.in, err)
		}
	}
}

func TestSaturate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		unit time.Duration
		want time.Duration
	}{
		{1.5, time.Hour, 90 * time.Minute},
		{1e308, time.Hour, math.MaxInt64},
		{1e7, time.Hour, math.MaxInt64},
		{-3, time.Second, 0},
		{math.NaN(), time.Second, 0},
		{math.Inf(1), time.Second, math.MaxInt64},
	} {
		if got := Saturate(tc.in, tc.unit); got != tc.want {
			t.Errorf("Saturate(%v, %v) = %v, want %v", tc.in, tc.unit, got, tc.want)
		}
	}
}
