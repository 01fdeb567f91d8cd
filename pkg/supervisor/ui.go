package supervisor

import "fmt"

// UI is what a person needs to see of a job in a dashboard, declared beside the job so that
// the descriptors the API serves are rendered from the job table, never kept in a copy.
type UI struct {
	DisplayName string
	Description string
	Subtext     string // one short line under the name, e.g. what the job is waiting for
	// Hidden keeps the job out of the dashboard's list (display: false) though it is
	// described: internal and one-shot jobs.
	Hidden bool
	// Settings are the published settings a person sees, in the order shown. Name, Datatype,
	// Unit and Settable are the job's declaration (a test in pkg/jobs checks they match what
	// the job declares when it runs); Label and the rest say how to show them.
	Settings []Setting
	// Automations are the algorithms of an automation family (temperature, dosing, led),
	// each with the options of its start form.
	Automations []Automation
}

// Automation is one algorithm a family starts by `automation_name`.
type Automation struct {
	Name        string
	DisplayName string
	Description string
	Fields      []Field
}

// Field is one option of an automation's start form.
type Field struct {
	Key      string
	Label    string
	Type     string // numeric (the default), string, select or boolean
	Unit     string
	Default  any
	Options  []string // the choices of a select
	Disabled bool     // shown, not editable
	Optional bool     // may be left empty (required is the default)
}

// Float is a pointer to x, for a Setting's Min, Max and Default.
func Float(x float64) *float64 { return &x }

// Specs is the job table in its order: what the descriptors are rendered from.
func (s *Supervisor) Specs() []Spec { return append([]Spec(nil), s.cfg.Jobs...) }

// Declared is what a running job has declared so far, in order (without setters): tests hold
// a job's UI against it. An error wrapping ErrNotRunning when no job of that name runs.
func (s *Supervisor) Declared(job string) ([]Setting, error) {
	s.mu.Lock()
	in, ok := s.running[job]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, job)
	}
	rt := in.rt
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]Setting, 0, len(rt.order))
	for _, name := range rt.order {
		if d, ok := rt.settings[name]; ok {
			st := d.Setting
			st.OnSet = nil
			out = append(out, st)
		}
	}
	return out, nil
}
