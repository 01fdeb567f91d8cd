package calibration

import (
	"errors"
	"strings"
	"testing"
)

// TestYAMLErrorLines: a YAML syntax error names the line the mistake is on. yaml.v3 gave
// parser errors one line too early (a 0-based number).
func TestYAMLErrorLines(t *testing.T) {
	t.Parallel()
	head := "calibration_type: od\ncalibration_name: x\n"
	for _, c := range []struct {
		name, text, want string
	}{
		{"sequence item in a mapping", head + "- a\n", "line 3: did not find expected key"},
		{"unclosed flow sequence", head + "calibrated_on_pioreactor_unit: pio01\nx: [1, 2\ny: 3\n", "line 4: did not find expected ',' or ']'"},
		{"unclosed flow mapping", head + "curve_data_: {type: poly\n", "line 3: did not find expected ',' or '}'"},
		{"unclosed flow on line 2", "calibration_type: od\ncalibration_name: [x\n", "line 2: did not find expected ',' or ']'"},
		// Scanner errors were right already and stay so.
		{"no colon", head + "bad line here\nfoo: bar\n", "line 3: could not find expected ':'"},
		{"bad token", head + "foo: @x\n", "line 3: found character that cannot start any token"},
		{"mapping value", head + "  foo: bar\n", "line 3: mapping values are not allowed in this context"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.text))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want ErrInvalid with %q", err, c.want)
			}
		})
	}
}
