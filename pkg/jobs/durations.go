package jobs

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Every duration a user can give a job (a start option, a /set, a config key) becomes a
// time.Duration here and nowhere else, through clock.Range: NaN, ±Inf and values outside the
// setting's range are refused with an error wrapping clock.ErrDuration. Below the minimum a
// job would work back to back; float seconds beyond ~292 years overflow time.Duration into a
// negative period, which used to mean "run constantly". At start a refusal fails the start;
// through /set the setting keeps its value and the refusal is logged.
const (
	// minODInterval is the shortest od_reading interval: one reading takes about 0.3 s.
	minODInterval = 500 * time.Millisecond
	// minAutomationPeriod is the shortest run_every `duration` of a dosing automation.
	minAutomationPeriod = time.Second
	// minStirringPeriod is the shortest [stirring.config] duration_between_updates_seconds.
	minStirringPeriod = time.Second
	// minLEDPhase is the shortest light or dark phase of light_dark_cycle (0 turns the phase off).
	minLEDPhase = time.Second
	// minSelfCheckInterval is the shortest [monitor.config] self_check_interval_hours (0: once).
	minSelfCheckInterval = time.Minute
	// maxLEDSettle is the longest [od_reading.config] duration_between_led_off_and_od_reading.
	maxLEDSettle = 10 * time.Second
	// maxPumpRun is the longest single pump run by volume or duration; `continuously` is the
	// way to run a pump open-ended.
	maxPumpRun = 24 * time.Hour
)

// maxDoseML bounds the volume of one pump run and of one dosing event: the bound the
// leader's store applies too.
const maxDoseML = contract.MaxDoseML

// minSubdoseML is the smallest [dosing_automation.config] max_subdose.
const minSubdoseML = 0.01

// durationIn converts value units of unit for the setting name into a Duration in
// [min, max], or refuses it naming the setting.
func durationIn(name string, value float64, unit, min, max time.Duration) (time.Duration, error) {
	d, err := clock.Range(value, unit, min, max)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// seconds converts a number of seconds that is a constant or derived from checked settings.
func seconds(s float64) time.Duration { return clock.Saturate(s, time.Second) }

// checkVolume refuses a volume that is negative, NaN, infinite or above maxDoseML.
func checkVolume(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > maxDoseML {
		return fmt.Errorf("%w: %s %v must be a number within [0, %v] mL", ErrBadVolume, name, v, maxDoseML)
	}
	return nil
}

// pumpRunSeconds checks the length of one pump run (by ml or by duration).
func pumpRunSeconds(s float64) (time.Duration, error) {
	return durationIn("pump run", s, time.Second, 0, maxPumpRun)
}

// The config keys that are durations (or bound the work of one dose), each read and checked
// by one function that the jobs and CheckConfig share.

func configDuration(c *config.Config, section, key string, fallback float64, unit, min, max time.Duration) (time.Duration, error) {
	v, err := c.Float(section, key, fallback)
	if err != nil {
		return 0, err
	}
	return durationIn("["+section+"] "+key, v, unit, min, max)
}

// stirringPeriod is [stirring.config] duration_between_updates_seconds.
func stirringPeriod(c *config.Config) (time.Duration, error) {
	return configDuration(c, stirringSection, "duration_between_updates_seconds", 23, time.Second, minStirringPeriod, clock.MaxDuration)
}

// ledSettle is [od_reading.config] duration_between_led_off_and_od_reading.
func ledSettle(c *config.Config) (time.Duration, error) {
	return configDuration(c, odSection, "duration_between_led_off_and_od_reading", 0.125, time.Second, 0, maxLEDSettle)
}

// subdosePause is [dosing_automation.config] pause_between_subdoses_seconds.
func subdosePause(c *config.Config) (time.Duration, error) {
	return configDuration(c, dosingSection, "pause_between_subdoses_seconds", 5, time.Second, 0, clock.MaxDuration)
}

// defaultSamplesPerSecond is [od_reading.config] samples_per_second when unset.
const defaultSamplesPerSecond = 0.2

// maxSubdose is [dosing_automation.config] max_subdose in mL: each halving of a dose doubles
// its sub-doses, so a tiny value would mean millions of them.
func maxSubdose(c *config.Config) (float64, error) {
	v, err := c.Float(dosingSection, "max_subdose", 1)
	if err == nil && !(v >= minSubdoseML && v <= maxDoseML) {
		err = fmt.Errorf("[%s] max_subdose %v must be within [%v, %v] mL", dosingSection, v, minSubdoseML, maxDoseML)
	}
	return v, err
}

// CheckConfig refuses the config values that would make a job refuse to start (or, for the
// monitor, be replaced by a default): the duration keys above, samples_per_second and
// max_subdose. For whoever saves a config, so that a bad value is refused on save.
func CheckConfig(c *config.Config) error {
	_, stir := stirringPeriod(c)
	_, settle := ledSettle(c)
	_, pause := subdosePause(c)
	_, subdose := maxSubdose(c)
	sps, err := c.Float(odSection, "samples_per_second", defaultSamplesPerSecond)
	if err == nil {
		_, err = odIntervalOfRate(sps)
	}
	var monitor error
	if _, warning := selfCheckInterval(c); warning != "" {
		monitor = errors.New(warning)
	}
	return errors.Join(stir, settle, pause, subdose, err, monitor)
}
