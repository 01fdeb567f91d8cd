package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strconv"
	"strings"
)

// defaultINI is the shipped template; deploy/config.ini is a copy (a test keeps them equal).
//
//go:embed default_config.ini
var defaultINI []byte

// Template returns the text of the shipped default config.ini.
func Template() []byte { return append([]byte(nil), defaultINI...) }

// Names of sections the package itself reads or derives.
const (
	SecPWM          = "PWM"
	SecPWMReverse   = "PWM_reverse"
	SecLEDs         = "leds"
	SecLEDsReverse  = "leds_reverse"
	SecPhotodiode   = "od_config.photodiode_channel"
	SecTopology     = "cluster.topology"
	SecAddresses    = "cluster.addresses"
	SecMQTT         = "mqtt"
	keyLeaderHost   = "leader_hostname"
	keyLeaderAddr   = "leader_address"
	keyBrokerAddr   = "broker_address"
	defaultLeader   = "localhost"
	missingTopology = "Missing required field(s): [cluster.topology] leader_hostname, [cluster.topology] leader_address"
)

// Config is an immutable snapshot of the effective configuration of one unit.
type Config struct {
	raw   *layer                       // merged files plus overrides, before derivation: the base of With
	names []string                     // section order, derived sections included, DEFAULT excluded
	own   map[string][]string          // each section's own keys, in order (DEFAULT's too)
	view  map[string]map[string]string // interpolated values, [DEFAULT] keys included
	bad   map[string]map[string]error  // values that did not interpolate (view holds their raw text)
}

// Load reads the shared file and the unit's override file. A missing unit file (or an empty
// unitPath) is fine; a missing shared file is an error that unwraps to fs.ErrNotExist.
func Load(sharedPath, unitPath string) (*Config, error) {
	shared, err := os.ReadFile(sharedPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &missingFileError{path: sharedPath}
	}
	if err != nil {
		return nil, fmt.Errorf("read shared config: %w", err)
	}
	var unit []byte
	if unitPath != "" {
		unit, err = os.ReadFile(unitPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read unit config: %w", err)
		}
	}
	c, err := parse(shared, unit)
	if err != nil {
		path := sharedPath
		if se := (*ValidationError)(nil); errors.As(err, &se) && se.file == "unit" {
			path = unitPath
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return c, nil
}

// LoadDefault returns the shipped template as a Config (the simulator's config when no
// --config is given). Its cluster.topology and broker address are empty, as before
// provisioning; callers that need them set them With overrides.
func LoadDefault() *Config {
	c, err := Parse(defaultINI, nil)
	if err != nil {
		panic("config: embedded template does not parse: " + err.Error()) // guarded by a test
	}
	return c
}

// Parse is Load on in-memory texts (tests, and the API validating an edit before writing it).
// unit may be nil.
func Parse(shared, unit []byte) (*Config, error) {
	c, err := parse(shared, unit)
	var se *ValidationError
	if errors.As(err, &se) && se.file != "" {
		return nil, fmt.Errorf("parse %s config: %w", se.file, err)
	}
	return c, err
}

func parse(shared, unit []byte) (*Config, error) {
	l, err := parseText(shared, false)
	if err != nil {
		return nil, tagFile(err, "shared")
	}
	u, err := parseText(unit, false)
	if err != nil {
		return nil, tagFile(err, "unit")
	}
	l.merge(u)
	// The derived [cluster.addresses] entry reads both keys without fallback in the
	// reference, so a config without them cannot be used at all.
	if _, ok := l.lookup(SecTopology, keyLeaderHost); !ok {
		return nil, &ValidationError{Msg: missingTopology}
	}
	if _, ok := l.lookup(SecTopology, keyLeaderAddr); !ok {
		return nil, &ValidationError{Msg: missingTopology}
	}
	return build(l), nil
}

func tagFile(err error, file string) error {
	var se *ValidationError
	if errors.As(err, &se) {
		se.file = file
	}
	return err
}

// With returns a new snapshot with per-run overrides [section, key, value] applied (sections
// and keys are created as needed; values are raw INI text, so % must be written %%). The
// receiver is not changed. Derived sections are recomputed, so overriding [PWM] moves
// [PWM_reverse] with it.
func (c *Config) With(overrides [][3]string) *Config {
	if len(overrides) == 0 {
		return c
	}
	l := c.raw.clone()
	for _, o := range overrides {
		l.section(o[0]).set(o[1], o[2])
	}
	return build(l)
}

// build derives the runtime-only sections (docs/config.md, "Layering") and interpolates.
func build(raw *layer) *Config {
	l := raw.clone()
	val := func(sec, key string) string { v, _ := l.resolve(sec, key); return v }

	if pd, ok := l.secs[SecPhotodiode]; ok {
		for _, k := range append([]string(nil), pd.keys...) {
			if strings.TrimSpace(val(SecPhotodiode, k)) == "" {
				pd.del(k)
			}
		}
	}
	for _, d := range [][2]string{{SecLEDs, SecLEDsReverse}, {SecPWM, SecPWMReverse}} {
		src, ok := l.secs[d[0]]
		if !ok {
			continue
		}
		rev := l.replace(d[1])
		for _, k := range src.keys { // file order: for a repeated label the last channel wins
			if label := val(d[0], k); label != "" {
				rev.set(label, escape(k))
			}
		}
	}
	if host := val(SecTopology, keyLeaderHost); host != "" {
		l.section(SecAddresses).set(host, escape(val(SecTopology, keyLeaderAddr)))
	}

	c := &Config{
		raw:   raw,
		names: append([]string(nil), l.names...),
		own:   map[string][]string{},
		view:  map[string]map[string]string{},
		bad:   map[string]map[string]error{},
	}
	defaults := l.secs[defaultSection]
	for _, name := range append([]string{defaultSection}, l.names...) {
		s := l.secs[name]
		c.own[name] = append([]string(nil), s.keys...)
		v := make(map[string]string, len(s.keys)+len(defaults.keys))
		for _, keys := range [][]string{defaults.keys, s.keys} {
			for _, k := range keys {
				r, err := l.resolve(name, k)
				v[k] = r
				if err != nil {
					if c.bad[name] == nil {
						c.bad[name] = map[string]error{}
					}
					c.bad[name][k] = err
				} else if c.bad[name] != nil {
					delete(c.bad[name], k) // an own key shadowing a broken default
				}
			}
		}
		c.view[name] = v
	}
	return c
}

// String returns the value of section/key, or fallback when the key (or the section) is
// absent. A value that fails to interpolate is returned as written.
func (c *Config) String(section, key, fallback string) string {
	if v, ok := c.view[section][key]; ok {
		return v
	}
	return fallback
}

// Get is the read without fallback: a missing key is an error wrapping ErrMissing, worded as
// the reference's warning, and so is a value that does not interpolate.
func (c *Config) Get(section, key string) (string, error) {
	v, ok := c.view[section][key]
	if !ok {
		return "", fmt.Errorf("%w: '%s.%s'. Are you missing the following in your config?\n\n[%s]\n%s=some value",
			ErrMissing, section, key, section, key)
	}
	if err := c.bad[section][key]; err != nil {
		return "", err
	}
	return v, nil
}

// typed returns the stripped value for a typed read; ok is false when absent.
func (c *Config) typed(section, key string) (string, bool, error) {
	v, ok := c.view[section][key]
	if !ok {
		return "", false, nil
	}
	if err := c.bad[section][key]; err != nil {
		return "", true, err
	}
	return strings.TrimSpace(v), true, nil
}

// Float reads a number; fallback when absent, an error naming section and key when malformed.
func (c *Config) Float(section, key string, fallback float64) (float64, error) {
	s, ok, err := c.typed(section, key)
	if !ok || err != nil {
		return fallback, err
	}
	f, perr := strconv.ParseFloat(s, 64)
	if perr != nil {
		return fallback, fmt.Errorf("error in [%s] parameter %s: %q is not a number", section, key, s)
	}
	return f, nil
}

// Int reads an integer; fallback when absent, an error naming section and key when malformed.
func (c *Config) Int(section, key string, fallback int) (int, error) {
	s, ok, err := c.typed(section, key)
	if !ok || err != nil {
		return fallback, err
	}
	n, perr := strconv.Atoi(s)
	if perr != nil {
		return fallback, fmt.Errorf("error in [%s] parameter %s: %q is not an integer", section, key, s)
	}
	return n, nil
}

// Bool reads configparser's boolean words (1 yes true on / 0 no false off, any case).
func (c *Config) Bool(section, key string, fallback bool) (bool, error) {
	s, ok, err := c.typed(section, key)
	if !ok || err != nil {
		return fallback, err
	}
	b, valid := ParseBool(s)
	if !valid {
		return fallback, fmt.Errorf("error in [%s] parameter %s: %q is not a boolean (1/0, yes/no, true/false, on/off)", section, key, s)
	}
	return b, nil
}

// ParseBool parses configparser's boolean words, case-insensitively.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// Has reports whether section has key, counting [DEFAULT] keys in existing sections.
func (c *Config) Has(section, key string) bool {
	_, ok := c.view[section][key]
	return ok
}

// HasSection reports whether the section exists (DEFAULT always does).
func (c *Config) HasSection(name string) bool {
	_, ok := c.view[name]
	return ok
}

// Section returns a copy of a section's keys and values ([DEFAULT] keys included); nil if
// the section does not exist.
func (c *Config) Section(name string) map[string]string {
	v, ok := c.view[name]
	if !ok {
		return nil
	}
	return maps.Clone(v)
}

// Keys returns a section's own keys in file order (without [DEFAULT]'s).
func (c *Config) Keys(name string) []string { return append([]string(nil), c.own[name]...) }

// Sections returns the section names in file order, derived sections last, DEFAULT excluded
// (as configparser's sections()).
func (c *Config) Sections() []string { return append([]string(nil), c.names...) }

// Merged returns every section as key → value, for GET /unit_api/config/merged.
func (c *Config) Merged() map[string]map[string]string {
	m := make(map[string]map[string]string, len(c.names))
	for _, name := range c.names {
		m[name] = maps.Clone(c.view[name])
	}
	return m
}

// Problems returns the values that did not interpolate (the reference fails each such read).
func (c *Config) Problems() []error {
	var errs []error
	for _, name := range append([]string{defaultSection}, c.names...) {
		for _, k := range c.own[name] {
			if err := c.bad[name][k]; err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}
