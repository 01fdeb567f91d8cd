package supervisor

import (
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

var settable = []contract.Datatype{contract.Float, contract.Integer, contract.Boolean, contract.String, contract.JSON}

// FuzzSetPayload: decoding a /set payload never panics, and what it accepts is valid for
// the datatype (finite floats, UTF-8 strings, well-formed JSON); refusals quote the payload
// short. Run: go test -run '^$' -fuzz FuzzSetPayload -fuzztime 60s ./pkg/supervisor
func FuzzSetPayload(f *testing.F) {
	for _, s := range []string{"", "NaN", "nan", "Inf", "-inf", "Infinity", "1e308", "1e309", "1e-320", "1e-400",
		"0x1p-2", "  42 ", "600", "-0", "9223372036854775808", "true", "{}", `{"a":[1,2,{"b":null}]}`, "[1e999]",
		"\xff\xfe", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		for _, d := range settable {
			v, err := decodeSet(d, []byte(payload))
			if err != nil {
				if len(err.Error()) > 400 {
					t.Fatalf("%s: error of %d bytes", d, len(err.Error()))
				}
				continue
			}
			switch x := v.(type) {
			case float64:
				if d != contract.Float || math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%s accepted %q as %v", d, payload, x)
				}
			case int64:
				if d != contract.Integer {
					t.Fatalf("%s gave an int64", d)
				}
			case bool:
				if d != contract.Boolean {
					t.Fatalf("%s gave a bool", d)
				}
			case string:
				if d != contract.String || !utf8.ValidString(x) {
					t.Fatalf("%s accepted %q as a string", d, payload)
				}
			case json.RawMessage:
				if d != contract.JSON || !json.Valid(x) {
					t.Fatalf("%s accepted %q as JSON", d, payload)
				}
			default:
				t.Fatalf("%s gave %T", d, v)
			}
			if _, err := contract.Encode(v); err != nil {
				t.Fatalf("%s: accepted %q cannot be published: %v", d, payload, err)
			}
		}
	})
}
