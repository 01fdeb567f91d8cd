package simbench

import (
	"math"
	"strings"
	"testing"
	"time"
)

// A loop whose series never arrived fails the bench: its bounds stay at ±Inf, which used to
// pass every "left the band" check.
func TestJudgeRefusesMissingSeries(t *testing.T) {
	t.Parallel()
	good := emptyFigures()
	good.reachedTarget, good.nodLo, good.nodHi, good.nodN = 5*time.Hour, 1.95, 2.05, 2000
	good.settledAt, good.tempLo, good.tempHi, good.inBand, good.afterSettle = 30*time.Minute, 29.8, 30.2, 2800, 2800
	good.rpmLo, good.rpmHi, good.rpmN = 490, 510, 2800
	good.mediaPublished, good.mediaTrue = 40, 40
	good.liquidSum, good.liquidN, good.liquidLo, good.liquidHi = 30*2000, 2000, 29.8, 30.2
	good.biasN, good.grPeak = 2800, 0.7
	for range minSeries {
		good.grExp = append(good.grExp, grSample{est: 0.5, truth: 0.7})
		good.grLate = append(good.grLate, grSample{est: 0.3, truth: 0.5})
	}
	if p := good.judge(); len(p) != 0 {
		t.Fatalf("a unit on target judged %v", p)
	}
	for _, tc := range []struct {
		name   string
		change func(*figures)
		want   string
	}{
		{"no RPM sample", func(f *figures) { f.rpmLo, f.rpmHi, f.rpmN = emptyFigures().rpmLo, emptyFigures().rpmHi, 0 }, "RPM samples"},
		{"no nOD sample after the target", func(f *figures) { f.nodLo, f.nodHi, f.nodN = emptyFigures().nodLo, emptyFigures().nodHi, 0 }, "nOD samples"},
		{"no temperature after settling", func(f *figures) { f.inBand, f.afterSettle = 0, 0 }, "thermostat"},
		{"RPM off target", func(f *figures) { f.rpmHi = 600 }, "RPM left"},
		{"no true liquid sample", func(f *figures) { f.liquidN, f.liquidLo, f.liquidHi = 0, math.Inf(1), math.Inf(-1) }, "true liquid samples"},
		{"true liquid mean off", func(f *figures) { f.liquidSum = 30.4 * 2000 }, "true liquid mean"},
		{"true liquid swings", func(f *figures) { f.liquidHi = 30.6 }, "true liquid left"},
		{"inference biased", func(f *figures) { f.biasSum = 0.5 * 2800 }, "true liquid − published"},
		{"no growth rate after the target", func(f *figures) { f.grLate = nil }, "growth-rate samples in the turbidostat"},
		{"growth rate off", func(f *figures) {
			f.grExp = nil
			for range minSeries {
				f.grExp = append(f.grExp, grSample{est: 0, truth: 0.7})
			}
		}, "growth-rate error"},
		{"overflow", func(f *figures) { f.overflowML = 0.5 }, "overflowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := good
			tc.change(&f)
			if p := f.judge(); len(p) == 0 || !strings.Contains(strings.Join(p, "; "), tc.want) {
				t.Fatalf("judged %v, want a problem with %q", p, tc.want)
			}
		})
	}
}
