package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// rawObject is a JSON object kept as bytes so its members can be read in document order.
type rawObject json.RawMessage

func (o *rawObject) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return &json.UnmarshalTypeError{Value: firstKind(t), Type: objectType}
	}
	*o = append((*o)[:0], b...)
	return nil
}

type member struct {
	key string
	raw json.RawMessage
}

// members lists the object's members in order; a duplicated key keeps both, as sent.
func (o rawObject) members() ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(o))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{key, raw})
	}
	return out, nil
}

// settingText renders a JSON value as the text of a /set payload (docs/mqtt.md, "Setting values"): an
// integer stays an integer (200, not 200.0, as Python's str() gives), a float gets its
// decimal point, booleans are True/False, strings go as they are, null is the empty
// payload, arrays and objects stay compact JSON.
func settingText(raw json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("setting value: %w", err)
	}
	switch x := v.(type) {
	case json.Number:
		s := x.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return contract.Encode(i)
			}
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("setting value %s: %w", s, err)
		}
		return contract.Encode(f)
	case map[string]any, []any:
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return contract.Encode(json.RawMessage(b.Bytes()))
	}
	return contract.Encode(v)
}

var objectType = reflect.TypeFor[map[string]any]()

// firstKind names the JSON value starting b as encoding/json's type errors do.
func firstKind(b []byte) string {
	if len(b) == 0 {
		return "null"
	}
	switch b[0] {
	case '"':
		return "string"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
