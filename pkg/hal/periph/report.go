package periph

import (
	"fmt"
	"io"
	"strings"
)

// Check is one device or line and how it answered.
type Check struct {
	What   string
	OK     bool
	Detail string
}

// Report is what Inspect found: the on-device smoke check a user pastes back.
type Report struct {
	PiModel  string
	HAT      string
	Model    string
	Firmware string
	GPIOChip string
	PWMChip  string
	Rail     string
	Power    string
	Devices  []Check
	Lines    []Check
	Problems []string
}

func (r *Report) problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

func (r *Report) device(what string, err error, detail string) {
	c := Check{What: what, OK: err == nil, Detail: detail}
	if err != nil {
		c.Detail = err.Error()
		r.problem("%s: %v", what, err)
	}
	r.Devices = append(r.Devices, c)
}

func (r *Report) line(what string, err error, detail string) {
	c := Check{What: what, OK: err == nil, Detail: detail}
	if err != nil {
		c.Detail = err.Error()
		r.problem("%s: %v", what, err)
	}
	r.Lines = append(r.Lines, c)
}

// WriteTo prints the report for people.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	or := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fmt.Fprintf(&b, "computer:  %s\n", or(r.PiModel))
	fmt.Fprintf(&b, "HAT:       %s\n", or(r.HAT))
	fmt.Fprintf(&b, "model:     %s\n", or(r.Model))
	fmt.Fprintf(&b, "firmware:  %s\n", or(r.Firmware))
	fmt.Fprintf(&b, "gpio chip: %s\n", or(r.GPIOChip))
	fmt.Fprintf(&b, "pwm chip:  %s\n", or(r.PWMChip))
	fmt.Fprintf(&b, "aux rail:  %s\n", or(r.Rail))
	fmt.Fprintf(&b, "power:     %s\n", or(r.Power))
	for _, sec := range []struct {
		name   string
		checks []Check
	}{{"I2C devices", r.Devices}, {"GPIO lines", r.Lines}} {
		if len(sec.checks) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", sec.name)
		for _, c := range sec.checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(&b, "  %s %-40s %s\n", mark, c.What, c.Detail)
		}
	}
	if len(r.Problems) == 0 {
		b.WriteString("result: ok\n")
	} else {
		fmt.Fprintf(&b, "result: %d problem(s)\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
