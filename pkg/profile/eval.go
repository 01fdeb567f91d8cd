package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Values reads live job settings for expressions.
type Values interface {
	// Setting is the retained payload of `<setting>` of job on unit, under the experiment that
	// unit is assigned to. An error wrapping ErrNoValue means nothing is retained there.
	Setting(ctx context.Context, unit, job, setting string) ([]byte, error)
}

// Scope is what an expression sees: variables (the profile's inputs overridden by unit,
// experiment, job_name, hours_elapsed, action_count), the current unit and job, live values.
type Scope struct {
	Vars       map[string]any
	Unit       string
	Experiment string
	Job        string
	Hours      float64
	Values     Values
	Random     func() float64 // nil means math/rand
}

// Eval evaluates e: a float64, bool or string.
func (e *Expr) Eval(ctx context.Context, s Scope) (any, error) {
	return s.eval(ctx, e.root)
}

// EvalBool evaluates e and converts the result with Python's truthiness.
func (e *Expr) EvalBool(ctx context.Context, s Scope) (bool, error) {
	v, err := e.Eval(ctx, s)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

func (s Scope) eval(ctx context.Context, n node) (any, error) {
	switch n := n.(type) {
	case numLit:
		return n.v, nil
	case boolLit:
		return n.v, nil
	case nameRef:
		if v, ok := s.Vars[n.name]; ok {
			return normalize(v), nil
		}
		return n.name, nil // a bare word is itself: `::monitor:$state == ready`
	case call:
		switch n.fn {
		case "random":
			if s.Random != nil {
				return s.Random(), nil
			}
			return rand.Float64(), nil
		case "unit":
			return s.Unit, nil
		case "experiment":
			return s.Experiment, nil
		case "job_name":
			return s.Job, nil
		case "hours_elapsed":
			return s.Hours, nil
		}
		return nil, fmt.Errorf("unknown function %s()", n.fn)
	case lookup:
		return s.lookup(ctx, n)
	case unary:
		x, err := s.eval(ctx, n.x)
		if err != nil {
			return nil, err
		}
		if n.op == "not" {
			return !truthy(x), nil
		}
		f, err := number(x, n.op)
		if err != nil {
			return nil, err
		}
		if n.op == "-" {
			return -f, nil
		}
		return f, nil
	case binary:
		return s.binary(ctx, n)
	}
	return nil, fmt.Errorf("unknown expression node %T", n)
}

func (s Scope) binary(ctx context.Context, n binary) (any, error) {
	l, err := s.eval(ctx, n.l)
	if err != nil {
		return nil, err
	}
	// and/or short-circuit and return an operand, as Python does.
	switch n.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return s.eval(ctx, n.r)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return s.eval(ctx, n.r)
	}
	r, err := s.eval(ctx, n.r)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "==":
		return equal(l, r), nil
	case "<", "<=", ">", ">=":
		return compare(n.op, l, r)
	}
	a, err := number(l, n.op)
	if err != nil {
		return nil, err
	}
	b, err := number(r, n.op)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		return a / b, nil
	case "**":
		v := math.Pow(a, b)
		if math.IsNaN(v) {
			return nil, fmt.Errorf("%v ** %v is not a real number", a, b)
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown operator %s", n.op)
}

func (s Scope) lookup(ctx context.Context, l lookup) (any, error) {
	unit, job := l.unit, l.job
	if unit == "" {
		unit = s.Unit // `::job:setting` and `unit():…` both mean the current unit
	}
	if l.jobFn {
		job = s.Job
	}
	if unit == "" || job == "" {
		return nil, fmt.Errorf("%s: no current unit or job here", l.text)
	}
	if s.Values == nil {
		return nil, fmt.Errorf("%s: %w", l.text, ErrNoValue)
	}
	payload, err := s.Values.Setting(ctx, unit, job, l.setting)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.text, err)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		v = string(payload) // a bare word such as `ready`
	}
	for _, k := range l.keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: TypeError: cannot read key `%s` of %s", l.text, k, Format(normalize(v)))
		}
		next, ok := obj[k]
		if !ok {
			keys := make([]string, 0, len(obj))
			for key := range obj {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			return nil, fmt.Errorf("%s: KeyError: missing nested key `%s` (available: %s)", l.text, k, strings.Join(keys, ", "))
		}
		v = next
	}
	return normalize(v), nil
}

// normalize maps decoded values onto the language's types: numbers are float64, and a string
// that reads as a number or as true/false becomes one.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(f, 0) {
			return f
		}
		switch strings.ToLower(x) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return v
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

func number(v any, op string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("TypeError: %s needs numbers, got %s", op, Format(v))
}

func equal(a, b any) bool {
	if x, ok := a.(bool); ok {
		if y, ok := b.(float64); ok {
			return (x && y == 1) || (!x && y == 0)
		}
	}
	if x, ok := b.(bool); ok {
		return equal(x, a)
	}
	return a == b
}

func compare(op string, l, r any) (bool, error) {
	var c int
	ls, lok := l.(string)
	rs, rok := r.(string)
	switch {
	case lok && rok:
		c = strings.Compare(ls, rs)
	case !lok && !rok:
		a, err := number(l, op)
		if err != nil {
			return false, err
		}
		b, err := number(r, op)
		if err != nil {
			return false, err
		}
		switch {
		case a < b:
			c = -1
		case a > b:
			c = 1
		}
	default:
		return false, fmt.Errorf("TypeError: cannot compare %s %s %s", Format(l), op, Format(r))
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// Format renders a value as the original printed it: floats always with a decimal point
// (400.0), booleans as True/False.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
