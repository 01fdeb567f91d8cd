package jobs

import (
	"fmt"
	"log/slog"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/clocktest"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// thermostatFigures judge a thermostat run on the simulated vial.
type thermostatFigures struct {
	liquidMean, liquidLo, liquidHi float64 // true liquid over the judged hours
	publishedMean, publishedWorst  float64 // published temperatures: mean and worst |T − target|
	published                      int
}

// runThermostat holds target for hours on the simulated vial with the job's clock late by
// lag per wake-up, and returns the figures over the hours after settle.
func runThermostat(t *testing.T, target float64, lag time.Duration, settle, hours time.Duration) thermostatFigures {
	var f thermostatFigures
	synctest.Test(t, func(t *testing.T) {
		var clk clock.Clock // the rig's real clock
		if lag > 0 {
			clk = clocktest.NewLate(clock.Real{}, lag, 1)
		}
		r := newRig(t, rigConfig{specs: []supervisor.Spec{NewTemperatureAutomationSpec(TemperatureAutomations())},
			overrides: [][3]string{{temperatureConfigSection, "inference_model", string(inferDecay)}},
			clock:     clk, log: slog.DiscardHandler})
		defer r.close()
		r.start("temperature_automation", map[string]any{"automation_name": "thermostat", "target_temperature": target})
		start := time.Now()
		var sum, pubSum float64
		var n int
		f.liquidLo, f.liquidHi = math.Inf(1), math.Inf(-1)
		last := ""
		for time.Since(start) < settle+hours {
			time.Sleep(5 * time.Second)
			if time.Since(start) < settle {
				continue
			}
			l := r.plant.Truth().LiquidC
			sum += l
			n++
			f.liquidLo, f.liquidHi = min(f.liquidLo, l), max(f.liquidHi, l)
			if cur := r.retained("temperature_automation", "temperature"); cur != last && cur != "" {
				last = cur
				v := decode[temperaturePayload](t, cur).Temperature
				pubSum += v
				f.published++
				f.publishedWorst = max(f.publishedWorst, math.Abs(v-target))
			}
		}
		f.liquidMean = sum / float64(max(n, 1))
		f.publishedMean = pubSum / float64(max(f.published, 1))
	})
	return f
}

// The thermostat holds the true liquid, not only its own estimate, and the speed of the
// simulated clock does not change that: wake-ups late by 1 ms, 0.6 s and 3.6 s of virtual
// time stand for `--speed` 1, 600 and 3600 (a millisecond of scheduler latency each).
func TestThermostatHoldsTrueLiquid(t *testing.T) {
	for _, c := range []struct {
		name   string
		target float64
		lag    time.Duration
	}{{"speed 1", 30, time.Millisecond}, {"speed 600", 30, 600 * time.Millisecond}, {"speed 3600", 30, 3600 * time.Millisecond},
		{"37 ℃ at speed 600", 37, 600 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := runThermostat(t, c.target, c.lag, 5*time.Hour, 5*time.Hour)
			t.Logf("true liquid mean %.2f ℃ in [%.2f, %.2f]; %d published, mean %.2f ℃, worst |T − %v| %.2f K",
				f.liquidMean, f.liquidLo, f.liquidHi, f.published, f.publishedMean, c.target, f.publishedWorst)
			for _, p := range f.judge(c.target) {
				t.Error(p)
			}
		})
	}
}

// judge lists how a run missed: true liquid mean within 0.3 K and every sample within
// 0.5 K of target; published temperatures within 0.5 K and on average within 0.3 K.
func (f thermostatFigures) judge(target float64) []string {
	var out []string
	if f.published < 50 {
		out = append(out, fmt.Sprintf("only %d temperatures published", f.published))
		return out
	}
	if math.Abs(f.liquidMean-target) > 0.3 {
		out = append(out, fmt.Sprintf("true liquid mean %.2f ℃ more than 0.3 K from target", f.liquidMean))
	}
	if f.liquidLo < target-0.5 || f.liquidHi > target+0.5 {
		out = append(out, fmt.Sprintf("true liquid swung to [%.2f, %.2f] ℃, beyond ±0.5 K", f.liquidLo, f.liquidHi))
	}
	if math.Abs(f.publishedMean-target) > 0.3 || f.publishedWorst > 0.5 {
		out = append(out, fmt.Sprintf("published mean %.2f ℃, worst %.2f K from target", f.publishedMean, f.publishedWorst))
	}
	return out
}
