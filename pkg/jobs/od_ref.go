package jobs

import (
	"math"

	"github.com/pioreactor/pioreactord/pkg/control"
)

// refTracker turns REF photodiode volts into the factor that signal volts are divided by,
// rejecting noisy readings (docs/algorithms.md, "REF normalisation").
type refTracker struct {
	unity     bool
	first     float64 // v0 of unity mode: the experiment's first REF reading (0 until known)
	ref       control.EMA
	baseline  control.EMA
	power     control.EMA
	threshold float64
	present   bool
}

func newRefTracker(mode string, emaWeight, intervalS float64, present bool) refTracker {
	t := refTracker{unity: mode == "unity", ref: control.EMA{Alpha: emaWeight},
		baseline: control.EMA{Alpha: 0.8}, power: control.EMA{Alpha: 0.95}, present: present}
	t.power.Update(1e-6)
	t.setInterval(intervalS)
	return t
}

func (t *refTracker) setInterval(intervalS float64) {
	t.threshold = 0.025 * math.Sqrt(intervalS/5)
}

// seed sets v0 of unity mode, e.g. the experiment's cached first REF reading.
func (t *refTracker) seed(v0 float64) {
	if v0 > 0 {
		t.first = v0
	}
}

// v0 is unity mode's reference reading, 0 while unknown or in classic mode.
func (t *refTracker) v0() float64 {
	if !t.unity {
		return 0
	}
	return t.first
}

// noisyRefWarning is the reference's log line when it rejects a REF reading.
const noisyRefWarning = "The reference PD is very noisy, and is likely to cause problems with OD readings. Pausing dosing."

// update feeds one REF reading and returns the current factor; a noisy reading leaves the
// factor unchanged and reports noisy.
func (t *refTracker) update(v float64) (factor float64, noisy bool) {
	rho := v
	if t.unity {
		if t.first == 0 {
			t.first = v
		}
		if t.first > 0 {
			rho = v / t.first
		}
	}
	base, ok := t.baseline.Value()
	if !ok {
		base = rho
	}
	sigma := math.Sqrt(t.power.Update((rho - base) * (rho - base)))
	t.baseline.Update(rho)
	if sigma > t.threshold {
		t.baseline.Clear()
		t.power.Clear()
		t.power.Update(1e-6)
		cur, _ := t.ref.Value()
		return cur, true
	}
	return t.ref.Update(rho), false
}
