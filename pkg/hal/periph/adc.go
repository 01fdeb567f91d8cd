package periph

import (
	"fmt"
	"math"
)

// Gain is an ADS111x programmable gain: 2/3, 1, 2, 4, 8 or 16.
type Gain float64

// Gain23 is the ADS111x's ±6.144 V range.
const Gain23 Gain = 2.0 / 3

// gains in the order checkGain scans them, with their full-scale range and PGA code.
var gains = []struct {
	g   Gain
	fsr float64
	pga uint16
}{{Gain23, 6.144, 0}, {1, 4.096, 1}, {2, 2.048, 2}, {4, 1.024, 3}, {8, 0.512, 4}, {16, 0.256, 5}}

func gainInfo(g Gain) (fsr float64, pga uint16, err error) {
	for _, x := range gains {
		if x.g == g {
			return x.fsr, x.pga, nil
		}
	}
	return 0, 0, fmt.Errorf("ads111x gain %v: %w (want 2/3, 1, 2, 4, 8 or 16)", float64(g), ErrOutOfRange)
}

// adsVolts converts a signed reading at the gain's full scale.
func adsVolts(raw int16, fsr float64) float64 { return float64(raw) / 32767 * fsr }

// adsSaturated: the converter clipped, so the real value lies beyond its range.
func adsSaturated(raw int16) bool { return raw == math.MaxInt16 || raw == math.MinInt16 }

// GainFor picks the highest gain whose window (with a 0.85 margin) holds volts, as the
// original does after every reading.
func GainFor(volts float64) Gain {
	const tolerance = 0.85
	for i, x := range gains {
		lo := -1.0
		if i+1 < len(gains) {
			lo = gains[i+1].fsr
		}
		if tolerance*lo <= volts && volts < tolerance*x.fsr {
			// the window of gain g is [fsr of the next gain, fsr of g)
			return x.g
		}
	}
	return Gain23
}
