package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Known is what the cluster has: the job names its units run and the units in its inventory.
// A nil list is not checked.
type Known struct {
	Jobs  []string
	Units []string
}

// Verify loads a profile and checks its job and unit names against known.
func Verify(src []byte, known Known) (*Profile, Diagnostics) {
	p, diags := Load(src)
	if p == nil {
		return nil, diags
	}
	return p, append(diags, Check(p, known)...)
}

// Check reports jobs no unit runs and units missing from the inventory: a typo there would
// otherwise fail only hours into the experiment.
func Check(p *Profile, known Known) Diagnostics {
	var out Diagnostics
	jobs := func(blocks []*JobBlock) {
		if known.Jobs == nil {
			return
		}
		for _, jb := range blocks {
			if jb.Job == "led_intensity" || contains(known.Jobs, jb.Job) {
				continue
			}
			names := append([]string(nil), known.Jobs...)
			sort.Strings(names)
			out = append(out, Diagnostic{Severity: SevError, Code: "job.unknown", Path: jb.Path,
				Message: fmt.Sprintf("no unit runs a job named %q", jb.Job), Hint: "jobs: " + strings.Join(names, ", "),
				Line: jb.Pos.Line, Column: jb.Pos.Column})
		}
	}
	jobs(p.Common)
	for _, ub := range p.Units {
		if known.Units != nil && !contains(known.Units, ub.Unit) {
			out = append(out, Diagnostic{Severity: SevError, Code: "unit.unknown", Path: ub.Path,
				Message: fmt.Sprintf("%q is not in the inventory", ub.Unit), Hint: "add the worker first, or fix the name",
				Line: ub.Pos.Line, Column: ub.Pos.Column})
		}
		jobs(ub.Jobs)
	}
	return out
}
