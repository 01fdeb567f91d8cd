package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeValues serves retained payloads keyed unit/job/setting.
type fakeValues map[string]string

func (f fakeValues) Setting(_ context.Context, unit, job, setting string) ([]byte, error) {
	v, ok := f[unit+"/"+job+"/"+setting]
	if !ok {
		return nil, fmt.Errorf("pioreactor/%s/.../%s/%s: %w", unit, job, setting, ErrNoValue)
	}
	return []byte(v), nil
}

func eval(t *testing.T, src string, s Scope) any {
	t.Helper()
	e, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	v, err := e.Eval(context.Background(), s)
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

func TestPrecedenceAndAssociativity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src   string
		want  any
		quirk bool // the original gave another value
	}{
		// arithmetic
		{"1 + 2 * 3", 7.0, false},
		{"(1 + 2) * 3", 9.0, false},
		{"10 - 4 - 3", 3.0, false},     // left-associative
		{"100 / 10 / 5", 2.0, false},   // left-associative
		{"2 ** 3 ** 2", 512.0, false},  // right-associative
		{"(2 ** 3) ** 2", 64.0, false}, // parentheses
		{"2 * 3 ** 2", 18.0, false},    // ** above *
		{"10 / 4", 2.5, false},
		{".5 + 12", 12.5, false},
		// unary minus: tighter than * and +, looser than ** (docs/compat.md)
		{"-2 ** 2", -4.0, false},
		{"-1 + 2", 1.0, true},
		{"3 * -2 + 1", -5.0, true},
		{"-(1 + 2)", -3.0, false},
		{"-2 * 3", -6.0, false},
		{"2 ** -1", 0.5, false},
		{"+3 - 1", 2.0, false},
		{"--2", 2.0, false},
		// comparisons below arithmetic, above not
		{"1 + 1 == 2", true, false},
		{"1 < 2", true, false},
		{"2 <= 2", true, false},
		{"3 >= 4", false, false},
		{"3 > 2 * 2", false, false},
		{"not 1 == 2", true, false},
		{"not 1 == 1 or 1 == 1", true, false},    // (not …) or …
		{"not (1 == 1 or 1 == 1)", false, false}, // parentheses
		// and above or; both return operands
		{"1 or 0 and 0", 1.0, false},
		{"(1 or 0) and 0", 0.0, false},
		{"0 or 5", 5.0, false},
		{"2 and 3", 3.0, false},
		{"0 and x", 0.0, false},
		{"true and false", false, false},
		{"TRUE", true, false},
		{"False", false, false},
		// spec examples
		{"1 == 1", true, false},
		{"(1 >= 0) and (0 <= 1)", true, false},
		{"ready == ready", true, false},
		{"a < b", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if e.MinusQuirk != tc.quirk {
				t.Errorf("MinusQuirk = %v, want %v", e.MinusQuirk, tc.quirk)
			}
			if got := eval(t, tc.src, Scope{}); got != tc.want {
				t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"1 % 1 and ", "", "1 +", "(1 + 2", "1 + 2)", `x == "ready"`, "x == 'ready'",
		"1 < 2 < 3", "and 1", "1 != 2", "nope() + 1", "1..2", "2x", "foo():job:setting", "u:bar():s"} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a SyntaxError", src, err)
			}
		})
	}
}

func TestNamesFunctionsAndLookups(t *testing.T) {
	t.Parallel()
	vals := fakeValues{
		"unit1/jobbing/target":          "10",
		"pio1/od_reading/od1":           `{"od": 1.5, "angle": "90"}`,
		"worker1/stirring/target_rpm":   "400",
		"worker1/monitor/$state":        "ready",
		"worker1/stirring/$state":       "ready",
		"worker1/temperature/flag":      "true",
		"worker1/growth_rate/nested":    `{"a": {"b": 2}}`,
		"worker-2/od_reading/od1":       `{"od": 0.2}`,
		"worker1/stirring/text_number":  `"12.5"`,
		"worker1/stirring/text_literal": `"fast"`,
	}
	s := Scope{Vars: map[string]any{"x": 2, "target_od": 1.2, "unit": "worker1"}, Unit: "worker1", Experiment: "exp1",
		Job: "stirring", Hours: 1.5, Values: vals, Random: func() float64 { return 0.25 }}
	tests := []struct {
		src  string
		want any
	}{
		{"x + 1", 3.0},
		{"unit() == worker1", true},
		{"unit() == unit1", false},
		{"experiment()", "exp1"},
		{"job_name()", "stirring"},
		{"hours_elapsed() > 1", true},
		{"random()", 0.25},
		{"unit1:jobbing:target + 1", 11.0},
		{"pio1:od_reading:od1.od > 1.2", true},
		{"pio1:od_reading:od1.angle", 90.0},
		{"::stirring:target_rpm", 400.0},
		{"unit():job_name():target_rpm", 400.0},
		{"::monitor:$state == ready", true},
		{"::temperature:flag", true},
		{"::growth_rate:nested.a.b * 2", 4.0},
		{"worker-2:od_reading:od1.od", 0.2},
		{"::stirring:text_number", 12.5},
		{"::stirring:text_literal == fast", true},
		{"not_defined", "not_defined"},
	}
	for _, tc := range tests {
		if got := eval(t, tc.src, s); got != tc.want {
			t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
		}
	}
	errs := []struct{ src, want string }{
		{"::stirring:missing", "does not exist"},
		{"::growth_rate:nested.a.rpm", "missing nested key `rpm`"},
		{"::stirring:target_rpm.x", "TypeError"},
		{"1 / 0", "division by zero"},
		{"fast + 1", "TypeError"},
		{"1 < fast", "TypeError"},
	}
	for _, tc := range errs {
		e, err := Parse(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Eval(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.src, err, tc.want)
		}
	}
	e, _ := Parse("::stirring:missing")
	if _, err := e.Eval(context.Background(), s); !errors.Is(err, ErrNoValue) {
		t.Errorf("a missing value is %v, want ErrNoValue", err)
	}
}

func TestUnwrapAndFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"${{ a + 1 }}": "a + 1", " ${{b}} ": "b"} {
		if got, ok := Unwrap(in); !ok || got != want {
			t.Errorf("Unwrap(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"1.0 + 1.0", "x ${{a}}", "${{a}} and ${{b}}"} {
		if _, ok := Unwrap(in); ok {
			t.Errorf("Unwrap(%q) unwrapped", in)
		}
	}
	for v, want := range map[any]string{400.0: "400.0", 2.5: "2.5", true: "True", "x": "x", 1e20: "1e+20"} {
		if got := Format(v); got != want {
			t.Errorf("Format(%v) = %q, want %q", v, got, want)
		}
	}
	if got := Embedded("OD is ${{ ::od_reading:od2.od }} at ${{hours_elapsed()}}"); len(got) != 2 || got[1] != "hours_elapsed()" {
		t.Errorf("Embedded = %q", got)
	}
}
