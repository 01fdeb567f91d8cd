package config

import (
	"errors"
	"strings"
)

// ValidateShared checks an edited config.ini before it is saved (docs/config.md, "Saving through the API"): en/em
// dashes normalised, strict parse (repeated sections or keys refused, with their line),
// non-empty [cluster.topology] leader_hostname and leader_address, an [mqtt] section, no
// address starting with http, every value interpolating, and every value the daemon or a
// job reads as a number or boolean reading as one (Validate). Errors are *ValidationError
// (messages as docs/http.md, "Config files"), except interpolation problems, which name section and key.
func ValidateShared(text []byte) error {
	l, err := parseText(Normalize(text), true)
	if err != nil {
		return err
	}
	var missing []string
	for _, k := range []string{keyLeaderHost, keyLeaderAddr} {
		if v, _ := l.lookup(SecTopology, k); strings.TrimSpace(v) == "" {
			missing = append(missing, "["+SecTopology+"] "+k)
		}
	}
	if _, ok := l.secs[SecMQTT]; !ok {
		missing = append(missing, "["+SecMQTT+"]")
	}
	if len(missing) > 0 {
		return &ValidationError{Msg: "Missing required field(s): " + strings.Join(missing, ", ")}
	}
	for _, at := range [][2]string{{SecTopology, keyLeaderAddr}, {SecMQTT, keyBrokerAddr}} {
		v, _ := l.lookup(at[0], at[1])
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "http") {
			return &ValidationError{Msg: "Don't start addresses with http:// or https://", Detail: "[" + at[0] + "] " + at[1]}
		}
	}
	return validateValues(build(l), text)
}

// ValidateUnit checks an edited unit_config.ini: strict parse of the text alone, then a
// successful merge with the unit's current shared file (read leniently, as at run time).
func ValidateUnit(text, shared []byte) error {
	text = Normalize(text)
	if _, err := parseText(text, true); err != nil {
		return err
	}
	c, err := Parse(shared, text)
	if err != nil {
		return err
	}
	return validateValues(c, text)
}

// validateValues runs the start-time checks (Validate) on an edited file: interpolation
// problems first, as before, then the typed values, the first one located in text.
func validateValues(c *Config, text []byte) error {
	if err := errors.Join(c.Problems()...); err != nil {
		return err
	}
	err := c.Validate()
	var ve *ValidationError
	if errors.As(err, &ve) && ve.section != "" {
		ve.Line = locateKey(text, ve.section, ve.key)
		return ve
	}
	return err
}
