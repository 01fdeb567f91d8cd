package periph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal"
)

// One OD reading: 40 samples of every channel spread over 0.85 s with golden-ratio jitter
// against aliasing with mains hum.
const (
	odSamples = 40
	odSpan    = 850 * time.Millisecond
)

// pdChannel is one photodiode input.
type pdChannel struct {
	name string // "1".."4"
	read voltmeter
	// hum: fit the mains-hum sinusoid (RP2040 and ADS1115 inputs; the ADS1114 boards filter it).
	hum bool
	// gain is nil on the RP2040 (fixed gain); on an ADS111x it re-ranges after each reading.
	gain ranger
}

// ranger is an ADC with a programmable gain (the ADS111x).
type ranger interface {
	Gain() Gain
	SetGain(Gain) error
}

// Photodiodes reads every photodiode of the layout: the OD job's hal.Photodiodes.
type Photodiodes struct {
	clk   clock.Clock
	chans []pdChannel
	n     int
	span  time.Duration
	// mainsHz is the hum's frequency: configured ([od_reading.config] local_ac_hz), else
	// chosen on the first reading; 0 until then.
	mainsHz float64
}

var _ hal.Photodiodes = (*Photodiodes)(nil)

// ReadVolts implements hal.Photodiodes: per channel, without the samples' minimum and maximum,
// the offset of the mains-hum fit (RP2040, ADS1115) or the mean (ADS1114), floored at 0. An ADS111x channel then moves to the gain that suits the
// reading; a clipped sample (ErrOutOfRange) counts at full scale and forces that re-ranging.
func (p *Photodiodes) ReadVolts(ctx context.Context) (map[string]float64, error) {
	samples := make([][]float64, len(p.chans))
	times := make([][]float64, len(p.chans))
	start := p.clk.Now()
	for k := 0; k < p.n; k++ {
		t0 := p.clk.Now()
		for i, c := range p.chans {
			v, err := c.read(ctx)
			if err != nil && !errors.Is(err, ErrOutOfRange) {
				return nil, fmt.Errorf("read photodiode %s: %w", c.name, err)
			}
			samples[i] = append(samples[i], v)
			times[i] = append(times[i], p.clk.Now().Sub(start).Seconds())
		}
		if p.n > 1 {
			_, frac := math.Modf(0.618034 * float64(k))
			wait := time.Duration(float64(p.span)/float64(p.n-1)*frac) - p.clk.Now().Sub(t0)
			if wait > 0 {
				if err := p.clk.Sleep(ctx, wait); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make(map[string]float64, len(p.chans))
	for i, c := range p.chans {
		v := trimmedMean(samples[i])
		if c.hum {
			ts, ys := trimExtremes(times[i], samples[i])
			if p.mainsHz == 0 {
				p.mainsHz = mainsHz(ts, ys)
			}
			v = fitHum(ts, ys, p.mainsHz).offset
		}
		v = math.Max(0, math.Round(v*1e10)/1e10)
		out[c.name] = v
		if c.gain != nil {
			if g := GainFor(v); g != c.gain.Gain() {
				if err := c.gain.SetGain(g); err != nil {
					return nil, fmt.Errorf("photodiode %s: set gain: %w", c.name, err)
				}
			}
		}
	}
	return out, nil
}

// trimmedMean drops one minimum and one maximum (one sample if they coincide).
func trimmedMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	lo, hi := 0, 0
	for i, x := range xs {
		if x < xs[lo] {
			lo = i
		}
		if x > xs[hi] {
			hi = i
		}
	}
	sum, n := 0.0, 0
	for i, x := range xs {
		if i == lo || i == hi {
			continue
		}
		sum += x
		n++
	}
	if n == 0 {
		return (xs[lo] + xs[hi]) / 2
	}
	return sum / float64(n)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
