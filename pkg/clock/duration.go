package clock

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrDuration is returned for a number of seconds that is not a usable duration.
var ErrDuration = errors.New("invalid duration")

// MaxDuration is the longest period any setting may ask for: a year. Anything longer is a
// typo or an attack, and float seconds beyond ~292 years overflow time.Duration into
// negative values, which used to turn into "run constantly".
const MaxDuration = 365 * 24 * time.Hour

// Seconds converts a number of seconds taken from outside (a /set payload, a REST option, a
// config key) into a Duration in [min, MaxDuration]. NaN, ±Inf and values outside the range
// are refused with an error naming the range, never saturated into something that runs.
func Seconds(s float64, min time.Duration) (time.Duration, error) {
	return Range(s, time.Second, min, MaxDuration)
}

// Range converts s units of unit (time.Second, time.Minute, time.Hour) into a Duration in
// [min, max], refusing NaN, ±Inf and anything outside the range.
func Range(s float64, unit, min, max time.Duration) (time.Duration, error) {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("%w: %v is not a finite number", ErrDuration, s)
	}
	v := s * float64(unit)
	if v < float64(min) || v > float64(max) {
		u := unitName(unit)
		return 0, fmt.Errorf("%w: %v %s must be between %.6g and %.6g %s", ErrDuration, s, u,
			float64(min)/float64(unit), float64(max)/float64(unit), u)
	}
	return time.Duration(v), nil
}

// Saturate converts s units of unit into a Duration, clamped into [0, math.MaxInt64]: for
// values that are already range-checked or where "as long as possible" is the right reading
// (a lookback larger than all data means "all of it").
func Saturate(s float64, unit time.Duration) time.Duration {
	v := s * float64(unit)
	switch {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(v)
}

func unitName(unit time.Duration) string {
	switch unit {
	case time.Millisecond:
		return "ms"
	case time.Second:
		return "s"
	case time.Minute:
		return "min"
	case time.Hour:
		return "h"
	}
	return unit.String()
}
