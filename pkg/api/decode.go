package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// DefaultBodyLimit bounds request bodies: every body of these routes is a few hundred bytes.
const DefaultBodyLimit = 64 << 10

// limitBody refuses a declared oversize body at once and caps an undeclared (chunked) one
// while it is read; decodeBody reports the cap as 413.
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return tooLarge(limit)
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			}
			return next(c)
		}
	}
}

func tooLarge(limit int64) *Error {
	return httpError(http.StatusRequestEntityTooLarge, "Request body too large.",
		fmt.Sprintf("The request body exceeds the limit of %d bytes.", limit), "Send a smaller request body.")
}

// decodeOpts says how lenient a route's body decoding is.
type decodeOpts struct {
	unknownOK bool // the run body (§1.8) tolerates unknown fields
	emptyOK   bool // no body at all means {}
}

// decodeBody decodes a JSON object into dst (a pointer to a struct) as msgspec does for the
// original (docs/http.md, "Request bodies"): malformed JSON, a non-object, a missing required field
// (tag `required:"true"`), a wrong type and, unless allowed, an unknown field are all 400
// "Invalid request body." with the decoder's message as cause. Field names are exact: Go's
// case-insensitive matching would accept "Experiment" for "experiment".
func decodeBody(c echo.Context, dst any, o decodeOpts) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return tooLarge(mb.Limit)
		}
		return httpError(http.StatusBadRequest, "Could not read the request body.", err.Error(), "")
	}
	fields := structFields(dst)
	if len(bytes.TrimSpace(body)) == 0 {
		if o.emptyOK {
			return nil
		}
		return invalidBody("Input data was truncated: the request body is empty.", fields)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return invalidBody(decodeMessage(err, body, nil), fields)
	}
	if members == nil { // the body was null
		return invalidBody("Expected `object`, got `null`", fields)
	}
	for name := range members {
		if _, known := fields.byName[name]; !known && !o.unknownOK {
			return invalidBody(fmt.Sprintf("Object contains unknown field `%s` - at `$`", name), fields)
		}
	}
	for _, f := range fields.list {
		raw, ok := members[f.name]
		if f.required && !ok {
			return invalidBody(fmt.Sprintf("Object missing required field `%s`", f.name), fields)
		}
		if f.required && string(bytes.TrimSpace(raw)) == "null" {
			return invalidBody(fmt.Sprintf("Expected `%s`, got `null` - at `$.%s`", f.kind, f.name), fields)
		}
	}
	// Decode only the known members, exactly named, so case-folding never applies.
	known := make(map[string]json.RawMessage, len(members))
	for name, raw := range members {
		if _, ok := fields.byName[name]; ok {
			known[name] = raw
		}
	}
	exact, _ := json.Marshal(known) // RawMessages re-marshal as they came
	dec := json.NewDecoder(bytes.NewReader(exact))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return invalidBody(decodeMessage(err, body, members), fields)
	}
	return nil
}

func invalidBody(cause string, fields fieldSet) *Error {
	remedy := "Send a valid JSON object."
	if req := fields.required(); len(req) > 0 {
		remedy = "Send a JSON object with the required fields: " + strings.Join(req, ", ") + "."
	}
	return httpError(http.StatusBadRequest, "Invalid request body.", cause, remedy)
}

// decodeMessage words encoding/json's errors the way msgspec does, which clients show.
// members, when known, tell an int from a float, which encoding/json calls both "number".
func decodeMessage(err error, body []byte, members map[string]json.RawMessage) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("JSON is malformed: %s (byte %d)", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		at := "$"
		if typ.Field != "" {
			at += "." + typ.Field
		}
		got := jsonKind(typ.Value)
		if raw, ok := members[typ.Field]; ok {
			got = valueKind(raw)
		}
		want := kindOf(typ.Type)
		// A number of the right kind that encoding/json still refused does not fit the
		// type (1e999 for a float, -1 or 1e30 for an int): "Expected float, got float"
		// said nothing.
		if num, ok := strings.CutPrefix(typ.Value, "number "); ok && (want == "float" || want == "int") &&
			!(want == "int" && got == "float") {
			return fmt.Sprintf("Number %s is out of range for `%s` - at `%s`", num, want, at)
		}
		return fmt.Sprintf("Expected `%s`, got `%s` - at `%s`", want, got, at)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fmt.Sprintf("Object contains unknown field `%s`", name)
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		return "JSON is malformed: " + err.Error()
	}
	return err.Error()
}

// kindOf names a Go type as msgspec names the JSON it expects.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "str"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "any"
}

// jsonKind names the JSON value encoding/json reported ("string", "number 1.5", ...).
func jsonKind(v string) string {
	switch {
	case v == "string":
		return "str"
	case strings.HasPrefix(v, "number"):
		if strings.ContainsAny(v, ".eE") {
			return "float"
		}
		return "int"
	}
	return v // bool, array, object, null
}

// valueKind names the kind of a raw JSON value in msgspec's words.
func valueKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch k := firstKind(raw); k {
	case "number":
		if bytes.ContainsAny(raw, ".eE") {
			return "float"
		}
		return "int"
	default:
		return jsonKind(k)
	}
}

type field struct {
	name     string
	kind     string
	required bool
}

type fieldSet struct {
	list   []field
	byName map[string]field
}

func (s fieldSet) required() []string {
	var out []string
	for _, f := range s.list {
		if f.required {
			out = append(out, f.name)
		}
	}
	return out
}

// structFields lists the JSON members of the struct dst points to, in declaration order.
func structFields(dst any) fieldSet {
	s := fieldSet{byName: map[string]field{}}
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return s
	}
	for sf := range t.Fields() {
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, kind: kindOf(sf.Type), required: sf.Tag.Get("required") == "true"}
		if !slices.ContainsFunc(s.list, func(x field) bool { return x.name == name }) {
			s.list = append(s.list, f)
			s.byName[name] = f
		}
	}
	return s
}
