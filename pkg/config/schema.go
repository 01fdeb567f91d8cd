package config

import (
	"errors"
	"fmt"
	"strings"
)

// kind is how a key is read: the typed reader (Int, Float, Bool) the daemon or a job uses.
type kind int

const (
	kindInt kind = iota
	kindFloat
	kindBool
)

// typedKey is one value the daemon or a job reads as a number or a boolean at start.
type typedKey struct {
	section, key string
	kind         kind
	positive     bool // the reader also refuses values ≤ 0
}

// typedKeys lists the typed reads of the daemon and its jobs. A value that fails here
// fails the daemon's start (the [mqtt] keys) or the job's start, so an editor must not save
// it. Keys read as text, or as "auto or a number", are not listed.
var typedKeys = []typedKey{
	{SecMQTT, "broker_port", kindInt, false},
	{SecMQTT, "broker_ws_port", kindInt, false},
	{SecMQTT, "use_tls", kindBool, false},
	{SecMQTT, "embedded_broker", kindBool, false},
	{"stirring.config", "initial_target_rpm", kindFloat, false},
	{"stirring.config", "initial_duty_cycle", kindFloat, false},
	{"stirring.config", "duration_between_updates_seconds", kindFloat, false},
	{"stirring.config", "use_rpm", kindBool, false},
	{"stirring.pid", "Kp", kindFloat, false},
	{"stirring.pid", "Ki", kindFloat, false},
	{"stirring.pid", "Kd", kindFloat, false},
	{"od_reading.config", "samples_per_second", kindFloat, true},
	{"od_reading.config", "pd_reference_ema", kindFloat, false},
	{"od_reading.config", "duration_between_led_off_and_od_reading", kindFloat, false},
	{"od_reading.config", "use_dark_offsets", kindBool, false},
	{"od_reading.config", "turn_off_leds_during_reading", kindBool, false},
	{"growth_rate_calculating.config", "ekf_outlier_std_threshold", kindFloat, false},
	{"growth_rate_calculating.config", "samples_for_od_statistics", kindInt, false},
	{"temperature_automation.thermostat", "Kp", kindFloat, false},
	{"temperature_automation.thermostat", "Ki", kindFloat, false},
	{"temperature_automation.thermostat", "Kd", kindFloat, false},
	{"dosing_automation.config", "pause_between_subdoses_seconds", kindFloat, false},
	{"dosing_automation.config", "waste_removal_multiplier", kindFloat, false},
	{"dosing_automation.config", "max_subdose", kindFloat, false},
	{"dosing_automation.pid_morbidostat", "Kp", kindFloat, false},
	{"dosing_automation.pid_morbidostat", "Ki", kindFloat, false},
	{"dosing_automation.pid_morbidostat", "Kd", kindFloat, false},
	{"dosing_automation.pid_morbidostat", "minimum_dosing_volume_ml", kindFloat, false},
	{"bioreactor", "initial_volume_ml", kindFloat, false},
	{"bioreactor", "efflux_tube_volume_ml", kindFloat, false},
	{"bioreactor", "initial_alt_media_fraction", kindFloat, false},
	{"bioreactor", "initial_cumulative_media_added_ml", kindFloat, false},
	{"bioreactor", "initial_cumulative_alt_media_added_ml", kindFloat, false},
	{"bioreactor", "initial_cumulative_waste_removed_ml", kindFloat, false},
	{"monitor.config", "self_check_interval_hours", kindFloat, false},
}

// Validate checks every value the daemon and its jobs read as a number or a boolean with
// the same readers they use (Int, Float, Bool, MQTT, PhotodiodeChannels), and every value
// interpolating. It is what the daemon runs at start and what the config editors run
// before saving, so a file that saves is a file that starts. Errors are *ValidationError
// naming section and key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(section, key string, err error) {
		msg := "Invalid value for [" + section + "]"
		if key != "" {
			msg += " " + key
		}
		errs = append(errs, &ValidationError{Msg: msg, Detail: err.Error(), section: section, key: key})
	}
	for _, err := range c.Problems() {
		errs = append(errs, err)
	}
	for _, k := range typedKeys {
		var err error
		var v float64
		switch k.kind {
		case kindInt:
			var n int
			n, err = c.Int(k.section, k.key, 1)
			v = float64(n)
		case kindFloat:
			v, err = c.Float(k.section, k.key, 1)
		case kindBool:
			_, err = c.Bool(k.section, k.key, false)
			v = 1
		}
		if err == nil && k.positive && !(v > 0) {
			err = fmt.Errorf("error in [%s] parameter %s: must be greater than 0", k.section, k.key)
		}
		if err != nil {
			bad(k.section, k.key, err)
		}
	}
	// Channels are checked once any is set: an unprovisioned file has none, and only the OD
	// jobs need them.
	if len(c.ownNonEmpty(SecPhotodiode)) > 0 {
		if _, err := c.PhotodiodeChannels(); err != nil {
			bad(SecPhotodiode, "", err)
		}
	}
	return errors.Join(errs...)
}

// locateKey returns the 1-based line of section/key in text (the last occurrence, which
// wins), or of the section's header when key is "", 0 when it is not there (a [DEFAULT]
// value, or another file's).
func locateKey(text []byte, section, key string) int {
	line, in := 0, false
	for i, l := range strings.Split(string(text), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") && !startsIndented(l) {
			name, _, _ := strings.Cut(strings.TrimPrefix(t, "["), "]")
			in = strings.TrimSpace(name) == section
			if in && key == "" {
				return i + 1
			}
			continue
		}
		if !in || startsIndented(l) {
			continue
		}
		k, _, ok := strings.Cut(t, "=")
		if k2, _, ok2 := strings.Cut(t, ":"); ok2 && (!ok || len(k2) < len(k)) {
			k, ok = k2, true
		}
		if ok && strings.TrimSpace(k) == key {
			line = i + 1
		}
	}
	return line
}

func startsIndented(l string) bool { return l != "" && (l[0] == ' ' || l[0] == '\t') }
