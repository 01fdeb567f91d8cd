package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// decodeString runs decodeBody on body as a request would carry it.
func decodeString(body string, dst any, o decodeOpts) error {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return decodeBody(c, dst, o)
}

// runFromString runs decodeRunRequest on body.
func runFromString(body string) (contract.RunRequest, error) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return decodeRunRequest(c)
}

// TestDecodeMessages: the causes name what is wrong. A number that does not fit its type
// used to read "Expected `float`, got `float`".
func TestDecodeMessages(t *testing.T) {
	t.Parallel()
	type body struct {
		F float64            `json:"f"`
		N int                `json:"n"`
		U uint8              `json:"u"`
		M map[string]float64 `json:"m"`
		S string             `json:"s"`
	}
	for _, c := range []struct{ body, cause string }{
		{`{"f":1e999}`, "Number 1e999 is out of range for `float` - at `$.f`"},
		{`{"f":-1e400}`, "Number -1e400 is out of range for `float` - at `$.f`"},
		{`{"n":1e30}`, "Expected `int`, got `float` - at `$.n`"},
		{`{"n":99999999999999999999}`, "Number 99999999999999999999 is out of range for `int` - at `$.n`"},
		{`{"u":-1}`, "Number -1 is out of range for `int` - at `$.u`"},
		{`{"u":256}`, "Number 256 is out of range for `int` - at `$.u`"},
		{`{"m":{"x":1e999}}`, "Number 1e999 is out of range for `float` - at `$.m`"},
		{`{"f":"NaN"}`, "Expected `float`, got `str` - at `$.f`"},
		{`{"f":NaN}`, "JSON is malformed: invalid character 'N' looking for beginning of value (byte 6)"},
		{`{"n":1.5}`, "Expected `int`, got `float` - at `$.n`"},
		{`{"s":1}`, "Expected `str`, got `int` - at `$.s`"},
	} {
		var b body
		err := decodeString(c.body, &b, decodeOpts{})
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Cause != c.cause {
			t.Errorf("%s: %#v, want cause %q", c.body, err, c.cause)
		}
	}
}

// checkRunRequest says what is wrong with an accepted run request that a unit could not
// rely on, "" when nothing is.
func checkRunRequest(r contract.RunRequest) string {
	for _, o := range r.ConfigOverrides {
		if strings.TrimSpace(o[0]) == "" || strings.TrimSpace(o[1]) == "" || !printable(o[0]) || !printable(o[1]) {
			return fmt.Sprintf("override %q", o)
		}
		if !utf8.ValidString(o[2]) {
			return fmt.Sprintf("override value %q", o[2])
		}
	}
	for name, v := range r.Options {
		if name == "" || !printable(name) || strings.ContainsFunc(name, unicode.IsSpace) {
			return fmt.Sprintf("option name %q", name)
		}
		if msg := checkJSONValue(v); msg != "" {
			return "option " + name + ": " + msg
		}
	}
	for _, a := range r.Args {
		if !utf8.ValidString(a) {
			return fmt.Sprintf("arg %q", a)
		}
	}
	for k, v := range r.Env {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Sprintf("env %q=%q", k, v)
		}
	}
	return ""
}

// checkJSONValue says what is wrong with a decoded JSON value that is not one of
// encoding/json's own types, or holds a number that is not finite.
func checkJSONValue(v any) string {
	switch x := v.(type) {
	case nil, bool:
	case string:
		if !utf8.ValidString(x) {
			return fmt.Sprintf("string %q", x)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("number %v", x)
		}
	case []any:
		for _, e := range x {
			if msg := checkJSONValue(e); msg != "" {
				return msg
			}
		}
	case map[string]any:
		for k, e := range x {
			if msg := checkJSONValue(e); msg != "" {
				return k + ": " + msg
			}
		}
	default:
		return fmt.Sprintf("value of type %T", v)
	}
	return ""
}

// FuzzDecodeBody: no body makes the strict decoder or the run-request decoder panic, and
// what they accept is well-typed: finite numbers, UTF-8 strings, override triples with a
// section and a key, option names usable as flags.
func FuzzDecodeBody(f *testing.F) {
	// The committed corpus (testdata/fuzz/FuzzDecodeBody) holds the hard cases; these are
	// the plain ones.
	for _, s := range []string{
		`{}`, ``, `null`, `[]`, `{"experiment":"exp1"}`,
		`{"args":["a"],"options":{"target_rpm":400,"dry_run":null},"env":{"EXPERIMENT":"exp1"},"config_overrides":[["s","k","v"]]}`,
	} {
		f.Add(s)
	}
	type strictBody struct {
		Experiment  string             `json:"experiment" required:"true"`
		Description *string            `json:"description"`
		Count       int                `json:"count"`
		Ratio       float64            `json:"ratio"`
		Values      map[string]float64 `json:"values"`
		Tags        []string           `json:"tags"`
		On          bool               `json:"on"`
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b strictBody
		if err := decodeString(body, &b, decodeOpts{}); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status/100 != 4 {
				t.Fatalf("decodeBody(%q): %v is not a 4xx *Error", body, err)
			}
		} else {
			if math.IsNaN(b.Ratio) || math.IsInf(b.Ratio, 0) {
				t.Fatalf("decodeBody(%q): ratio %v", body, b.Ratio)
			}
			for k, v := range b.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("decodeBody(%q): values[%q] = %v", body, k, v)
				}
			}
		}
		r, err := runFromString(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status/100 != 4 {
				t.Fatalf("decodeRunRequest(%q): %v is not a 4xx *Error", body, err)
			}
			return
		}
		if msg := checkRunRequest(r); msg != "" {
			t.Fatalf("decodeRunRequest(%q) accepted a bad %s", body, msg)
		}
		// What the leader forwards to a unit decodes there to the same request.
		fwd, err := json.Marshal(normalise(r))
		if err != nil {
			t.Fatalf("re-encode %q: %v", body, err)
		}
		if _, err := runFromString(string(fwd)); err != nil {
			t.Fatalf("the unit refuses what the leader accepted: %s: %v", fwd, err)
		}
	})
}
