package session

import (
	"fmt"
	"math"
	"strconv"
)

// Inputs are the answers to a step, as JSON decoded them.
type Inputs map[string]any

// Float reads a number (or a numeric string) within [lo, hi].
func (in Inputs) Float(name string, def, lo, hi float64) (float64, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return 0, fmt.Errorf("%w: %s: %q is not a number", ErrBadInput, name, x)
		}
	default:
		return 0, fmt.Errorf("%w: %s: %v is not a number", ErrBadInput, name, v)
	}
	if math.IsNaN(f) || f < lo || f > hi {
		return 0, fmt.Errorf("%w: %s: %v must be within %v–%v", ErrBadInput, name, f, lo, hi)
	}
	return f, nil
}

// Required is Float without a default.
func (in Inputs) Required(name string, lo, hi float64) (float64, error) {
	if v, ok := in[name]; !ok || v == nil {
		return 0, fmt.Errorf("%w: %s is required", ErrBadInput, name)
	}
	return in.Float(name, 0, lo, hi)
}

// Floats reads a list of numbers within [lo, hi] (at least min of them).
func (in Inputs) Floats(name string, def []float64, lo, hi float64, min int) ([]float64, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return def, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a list of numbers", ErrBadInput, name)
	}
	out := make([]float64, len(list))
	for i, x := range list {
		f, err := Inputs{name: x}.Float(name, 0, lo, hi)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	if len(out) < min {
		return nil, fmt.Errorf("%w: %s needs at least %d values", ErrBadInput, name, min)
	}
	return out, nil
}

// Bool reads a boolean.
func (in Inputs) Bool(name string, def bool) (bool, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %s must be true or false", ErrBadInput, name)
	}
	return b, nil
}

// String reads a string.
func (in Inputs) String(name, def string) (string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s must be text", ErrBadInput, name)
	}
	return s, nil
}

func ptr(f float64) *float64 { return &f }

// dataFloats reads a []float64 kept in Session.Data.
func dataFloats(d map[string]any, key string) []float64 {
	switch x := d[key].(type) {
	case []float64:
		return append([]float64(nil), x...)
	case []any:
		out := make([]float64, 0, len(x))
		for _, v := range x {
			if f, ok := v.(float64); ok {
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}

func dataFloat(d map[string]any, key string) float64 {
	f, _ := d[key].(float64)
	return f
}
