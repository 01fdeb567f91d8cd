package profile

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Step is one line of a profile's plan: what happens to which job on which unit, and when.
type Step struct {
	At   time.Duration // from the start of the profile; for steps under a when, from its condition
	Unit string        // "" for a common block: every worker
	Job  string
	What string
}

func (s Step) String() string {
	unit := s.Unit
	if unit == "" {
		unit = "every worker"
	}
	return fmt.Sprintf("%s %s on %s: %s", fmtDuration(s.At), s.Job, unit, s.What)
}

// Plan lists what a profile will do, in time order, as far as it is known in advance: a repeat
// is unrolled up to its max_time (its while still decides at run time), and a when's actions
// are listed after it, timed from the moment its condition holds.
func Plan(p *Profile) []Step {
	var out []Step
	add := func(unit string, blocks []*JobBlock) {
		for _, jb := range blocks {
			for _, a := range jb.Actions {
				out = append(out, planAction(unit, jb.Job, a, 0, "")...)
			}
		}
	}
	add("", p.Common)
	for _, ub := range p.Units {
		add(ub.Unit, ub.Jobs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

func planAction(unit, job string, a *Action, base time.Duration, prefix string) []Step {
	at := base + a.At
	switch a.Type {
	case Repeat:
		n := 1
		if a.MaxTime > 0 && a.Every > 0 {
			n = int((a.MaxTime + a.Every - 1) / a.Every)
		}
		what := fmt.Sprintf("repeat every %s", fmtDuration(a.Every))
		if a.MaxTime == 0 {
			what += " for as long as its while holds"
		} else {
			what += fmt.Sprintf(", %d time(s)", n)
		}
		out := []Step{{At: at, Unit: unit, Job: job, What: prefix + what}}
		for i := 0; i < n && i < 1000; i++ {
			for _, c := range a.Actions {
				if c.At <= a.Every {
					out = append(out, planAction(unit, job, c, at+time.Duration(i)*a.Every, prefix)...)
				}
			}
		}
		return out
	case When:
		cond := "its condition"
		if a.Until.Expr != nil {
			cond = a.Until.Expr.Source
		}
		out := []Step{{At: at, Unit: unit, Job: job, What: prefix + "wait until " + cond}}
		for _, c := range a.Actions {
			// Timed from the moment the condition holds, which no plan knows: listed at the when.
			for _, st := range planAction(unit, job, c, at, prefix+"then "+fmtDuration(c.At)+" later: ") {
				st.At = at
				out = append(out, st)
			}
		}
		return out
	}
	what := a.Type
	if len(a.Options) > 0 {
		var opts []string
		for _, f := range a.Options {
			opts = append(opts, fmt.Sprintf("%s=%s", f.Key, Format(f.Value)))
		}
		what += " (" + strings.Join(opts, ", ") + ")"
	}
	if a.If.Set {
		what += " if " + condText(a.If)
	}
	return []Step{{At: at, Unit: unit, Job: job, What: prefix + what}}
}

func condText(c Cond) string {
	if c.Expr != nil {
		return c.Expr.Source
	}
	return Format(c.Lit)
}

// fmtDuration writes a plan time compactly: 0s, 90s, 30m, 2h, 1d2h30m.
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "+0s"
	}
	var b strings.Builder
	b.WriteString("+")
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.d {
			fmt.Fprintf(&b, "%d%s", d/u.d, u.name)
			d %= u.d
		}
	}
	if d > 0 {
		fmt.Fprintf(&b, "%dms", d/time.Millisecond)
	}
	return b.String()
}
