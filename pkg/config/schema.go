package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// kind is how a key is read: the typed reader (Int, Float, Bool) the daemon or a job uses.
type kind int

const (
	kindInt kind = iota
	// kindIntOrBlank is an integer where a blank value means the default: the listener keys
	// the daemon reads that way at start (max_packet_size, [ui] port).
	kindIntOrBlank
	kindFloat
	kindBool
)

// rule is what the reader refuses beyond a malformed value.
type rule int

const (
	anyValue   rule = iota
	positive        // ≤ 0 refused
	port            // outside 0..65535: no listener binds it, no client dials it
	packetSize      // outside 1024..268435455, the broker's bounds for a maximum packet
)

// bounds are the inclusive limits of a ranged rule.
var bounds = map[rule][2]float64{port: {0, 65535}, packetSize: {1 << 10, 268435455}}

// typedKey is one value the daemon or a job reads as a number or a boolean at start.
type typedKey struct {
	section, key string
	kind         kind
	rule         rule
}

// The TLS keys of a listener's section: PEM certificate and private key.
const (
	keyTLSCert = "tls_cert_file"
	keyTLSKey  = "tls_key_file"
)

// tlsPairs are the certificate/key pairs of the TLS listeners: one without the other stops
// the daemon at start (docs/security.md), so it must not save either.
var tlsPairs = []string{SecMQTT, "ui"}

// typedKeys lists the typed reads of the daemon and its jobs. A value that fails here
// fails the daemon's start (the [mqtt] and listener keys) or the job's start, so an editor
// must not save it. Keys read as text, or as "auto or a number", are not listed.
var typedKeys = []typedKey{
	{SecMQTT, "broker_port", kindInt, port},
	{SecMQTT, "broker_ws_port", kindInt, port},
	{SecMQTT, "max_packet_size", kindIntOrBlank, packetSize},
	{"ui", "port", kindIntOrBlank, port},
	{SecMQTT, "use_tls", kindBool, anyValue},
	{SecMQTT, "embedded_broker", kindBool, anyValue},
	{"stirring.config", "initial_target_rpm", kindFloat, anyValue},
	{"stirring.config", "initial_duty_cycle", kindFloat, anyValue},
	{"stirring.config", "duration_between_updates_seconds", kindFloat, anyValue},
	{"stirring.config", "use_rpm", kindBool, anyValue},
	{"stirring.pid", "Kp", kindFloat, anyValue},
	{"stirring.pid", "Ki", kindFloat, anyValue},
	{"stirring.pid", "Kd", kindFloat, anyValue},
	{"od_reading.config", "samples_per_second", kindFloat, positive},
	{"od_reading.config", "pd_reference_ema", kindFloat, anyValue},
	{"od_reading.config", "duration_between_led_off_and_od_reading", kindFloat, anyValue},
	{"od_reading.config", "use_dark_offsets", kindBool, anyValue},
	{"od_reading.config", "turn_off_leds_during_reading", kindBool, anyValue},
	{"growth_rate_calculating.config", "ekf_outlier_std_threshold", kindFloat, anyValue},
	{"growth_rate_calculating.config", "samples_for_od_statistics", kindInt, anyValue},
	{"temperature_automation.thermostat", "Kp", kindFloat, anyValue},
	{"temperature_automation.thermostat", "Ki", kindFloat, anyValue},
	{"temperature_automation.thermostat", "Kd", kindFloat, anyValue},
	{"dosing_automation.config", "pause_between_subdoses_seconds", kindFloat, anyValue},
	{"dosing_automation.config", "waste_removal_multiplier", kindFloat, anyValue},
	{"dosing_automation.config", "max_subdose", kindFloat, anyValue},
	{"dosing_automation.pid_morbidostat", "Kp", kindFloat, anyValue},
	{"dosing_automation.pid_morbidostat", "Ki", kindFloat, anyValue},
	{"dosing_automation.pid_morbidostat", "Kd", kindFloat, anyValue},
	{"dosing_automation.pid_morbidostat", "minimum_dosing_volume_ml", kindFloat, anyValue},
	{"bioreactor", "initial_volume_ml", kindFloat, anyValue},
	{"bioreactor", "efflux_tube_volume_ml", kindFloat, anyValue},
	{"bioreactor", "initial_alt_media_fraction", kindFloat, anyValue},
	{"bioreactor", "initial_cumulative_media_added_ml", kindFloat, anyValue},
	{"bioreactor", "initial_cumulative_alt_media_added_ml", kindFloat, anyValue},
	{"bioreactor", "initial_cumulative_waste_removed_ml", kindFloat, anyValue},
	{"monitor.config", "self_check_interval_hours", kindFloat, anyValue},
}

// Validate checks every value the daemon and its jobs read as a number or a boolean with
// the same readers they use (Int, Float, Bool, MQTT, PhotodiodeChannels), and every value
// interpolating. It is what the daemon runs at start and what the config editors run
// before saving, so a file that saves is a file that starts. Errors are *ValidationError
// naming section and key, except interpolation problems (which name them in their text).
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.ValidateEach() {
		errs = append(errs, p.Err)
	}
	return errors.Join(errs...)
}

// Problem is one value Validate refuses.
type Problem struct {
	Section, Key string // Key is "" for a problem of the section as a whole
	Err          error
}

// Line is the 1-based line of text that sets the refused value (see locateKey); 0 when
// text does not set it.
func (p Problem) Line(text []byte) int { return locateKey(text, p.Section, p.Key) }

// ValidateEach is Validate as a list, for a caller that treats problems differently by
// where they are (the daemon refuses to start for its listeners' keys, only logs a job's).
func (c *Config) ValidateEach() []Problem {
	var out []Problem
	bad := func(section, key string, err error) {
		msg := "Invalid value for [" + section + "]"
		if key != "" {
			msg += " " + key
		}
		out = append(out, Problem{section, key, &ValidationError{Msg: msg, Detail: err.Error(), section: section, key: key}})
	}
	for _, name := range append([]string{defaultSection}, c.names...) { // as Problems
		for _, k := range c.own[name] {
			if err := c.bad[name][k]; err != nil {
				out = append(out, Problem{name, k, err})
			}
		}
	}
	for _, k := range typedKeys {
		if err := c.checkTyped(k); err != nil {
			bad(k.section, k.key, err)
		}
	}
	for _, section := range tlsPairs {
		cert := strings.TrimSpace(c.String(section, keyTLSCert, ""))
		key := strings.TrimSpace(c.String(section, keyTLSKey, ""))
		if (cert == "") != (key == "") {
			set := keyTLSCert // the one to point at: the other may have no line
			if cert == "" {
				set = keyTLSKey
			}
			bad(section, set, fmt.Errorf("[%s] %s and %s go together: set both for TLS, or neither", section, keyTLSCert, keyTLSKey))
		}
	}
	// Channels are checked once any is set: an unprovisioned file has none, and only the OD
	// jobs need them.
	if len(c.ownNonEmpty(SecPhotodiode)) > 0 {
		if _, err := c.PhotodiodeChannels(); err != nil {
			bad(SecPhotodiode, "", err)
		}
	}
	return out
}

// checkTyped reads k as the daemon or job does and applies its rule.
func (c *Config) checkTyped(k typedKey) error {
	var err error
	var v float64
	switch k.kind {
	case kindIntOrBlank:
		if raw, ok := c.view[k.section][k.key]; ok && strings.TrimSpace(raw) == "" && c.bad[k.section][k.key] == nil {
			return nil
		}
		fallthrough
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
	if err != nil {
		return err
	}
	if _, set := c.view[k.section][k.key]; !set {
		return nil // absent: the reader's default
	}
	switch b, ranged := bounds[k.rule]; {
	case k.rule == positive && !(v > 0):
		return fmt.Errorf("error in [%s] parameter %s: must be greater than 0", k.section, k.key)
	case ranged && (v < b[0] || v > b[1]):
		return fmt.Errorf("error in [%s] parameter %s: %s is out of range %s to %s", k.section, k.key, num(v), num(b[0]), num(b[1]))
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

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
