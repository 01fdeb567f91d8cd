package profile

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Scalar fields of actions: time literals, conditions, options.

var timeLiteral = regexp.MustCompile(`^(\d+(?:\.\d*)?|\.\d+)([smhdSMHD])$`)

// duration reads a time literal (number = hours, or "<number><s|m|h|d>"), or with hoursOnly a
// number of hours. zeroOK allows 0 (action times); intervals must be positive.
func (d *decoder) duration(n *yaml.Node, path string, hoursOnly, zeroOK bool) (time.Duration, bool) {
	var hours float64
	switch {
	case n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float"):
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf("time.invalid", path, n, "%q is not a time", n.Value)
			return 0, false
		}
		hours = f
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str" && !hoursOnly:
		m := timeLiteral.FindStringSubmatch(n.Value)
		if m == nil {
			msg := fmt.Sprintf("%q is not a time: write a number of hours, or a number with s, m, h or d (30s, 1.5m, 2h, 1d)", n.Value)
			if strings.HasPrefix(strings.TrimSpace(n.Value), "-") {
				d.errorf("time.negative", path, n, "%q is negative", n.Value)
				return 0, false
			}
			d.errorf("time.invalid", path, n, "%s", msg)
			return 0, false
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		switch strings.ToLower(m[2]) {
		case "s":
			hours = f / 3600
		case "m":
			hours = f / 60
		case "h":
			hours = f
		case "d":
			hours = f * 24
		}
	default:
		d.errorf("time.invalid", path, n, "expected a time, got %s", kindName(n))
		return 0, false
	}
	const maxHours = 100 * 365 * 24 // keeps the Duration from overflowing
	switch {
	case hours < 0 && zeroOK:
		d.errorf("time.negative", path, n, "%s is negative", n.Value)
		return 0, false
	case hours <= 0 && !zeroOK:
		d.errorf("time.non_positive", path, n, "%s must be more than 0", n.Value)
		return 0, false
	case hours > maxHours:
		d.errorf("time.invalid", path, n, "%s is more than 100 years", n.Value)
		return 0, false
	}
	return time.Duration(math.Round(hours * float64(time.Hour))), true
}

// cond reads a boolean or an expression (with or without ${{ }}).
func (d *decoder) cond(n *yaml.Node, path string) Cond {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		_ = n.Decode(&b)
		return Cond{Set: true, Lit: b}
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf("field.type", path, n, "expected a boolean or an expression, got %s", kindName(n))
		return Cond{}
	}
	src, _ := Unwrap(n.Value)
	e := d.expr(src, path, n)
	if e == nil {
		return Cond{}
	}
	return Cond{Set: true, Expr: e}
}

func (d *decoder) expr(src, path string, n *yaml.Node) *Expr {
	e, err := Parse(src)
	if err != nil {
		d.add(SevError, "expression.syntax", path, n, err.Error(), "operators: + - * / ** < <= == >= > and or not; no quotes")
		return nil
	}
	if e.MinusQuirk {
		d.add(SevWarning, "expression.unary_minus", path, n,
			fmt.Sprintf("%q: a leading minus applies to its number only here; the original software negated the whole sum", src),
			"add parentheses to say which you mean")
	}
	return e
}

// fields reads options or config_overrides, keeping document order; a string that is
// entirely ${{ … }} is parsed now so a bad expression fails validation.
func (d *decoder) fields(n *yaml.Node, path string) []Field {
	var out []Field
	d.mapping(n, path, nil, func(key string, _, v *yaml.Node) {
		f := Field{Key: key, Value: value(v)}
		if s, ok := f.Value.(string); ok {
			if src, wrapped := Unwrap(s); wrapped {
				f.Expr = d.expr(src, path+"."+key, v)
			} else if key == "message" {
				for _, e := range Embedded(s) {
					d.expr(e, path+"."+key, v)
				}
			}
		}
		out = append(out, f)
	})
	return out
}

func (d *decoder) args(n *yaml.Node, path string) []string {
	if n.Kind != yaml.SequenceNode {
		d.errorf("field.type", path, n, "expected a list of strings, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			d.errorf("field.type", fmt.Sprintf("%s[%d]", path, i), item, "expected a string, got %s", kindName(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// value converts a node to plain Go values (maps with string keys, lists, scalars).
func value(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return plain(v)
}

func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = plain(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	}
	return v
}
