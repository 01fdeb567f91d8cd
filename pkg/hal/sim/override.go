package sim

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Override sets parameters from text values keyed by the field name in snake_case, as the
// daemon reads them from config.ini's [simulation] section (e.g. `mu_opt_per_hour = 0.8`,
// `ambient_c = 25`, `seed = 7`, `sampling_time = 850ms`). Unknown keys and malformed values are
// refused together, naming each, and p is left unchanged.
func (p *Params) Override(values map[string]string) error {
	next := *p
	v := reflect.ValueOf(&next).Elem()
	fields := map[string]reflect.Value{}
	for i := 0; i < v.NumField(); i++ {
		fields[snake(v.Type().Field(i).Name)] = v.Field(i)
	}
	var problems []string
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		f, ok := fields[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown parameter %q", key))
			continue
		}
		if err := setField(f, strings.TrimSpace(values[key])); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", key, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("simulation parameters: %s", strings.Join(problems, "; "))
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*p = next
	return nil
}

func setField(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.SetFloat(x)
	case reflect.Int64:
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.SetInt(x)
	case reflect.Bool:
		x, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		f.SetBool(x)
	case reflect.String:
		f.SetString(s)
	default:
		return fmt.Errorf("cannot be set from config")
	}
	return nil
}

// snake turns MuOptPerHour into mu_opt_per_hour and InitialOD into initial_od.
func snake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			nextLower := i > 0 && i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
