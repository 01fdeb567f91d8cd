package profile

import (
	"fmt"
	"time"
)

// Profile is a decoded experiment profile (its YAML form is described in docs/profiles.md).
type Profile struct {
	Version     string
	Name        string
	Author      string
	Description string
	Plugins     []Plugin
	Inputs      map[string]any
	Common      []*JobBlock // applied to every active worker of the experiment
	Units       []*UnitBlock
}

// Plugin is a declared plugin requirement.
type Plugin struct {
	Name, Version string
	Pos           Pos
}

// UnitBlock holds the jobs of one named unit.
type UnitBlock struct {
	Unit  string
	Label string
	Jobs  []*JobBlock
	Pos   Pos
	Path  string
}

// JobBlock is the list of actions on one job.
type JobBlock struct {
	Job         string
	Description string
	Actions     []*Action
	Pos         Pos
	Path        string
}

// Action types.
const (
	Start  = "start"
	Stop   = "stop"
	Pause  = "pause"
	Resume = "resume"
	Update = "update"
	Log    = "log"
	Repeat = "repeat"
	When   = "when"
)

// priority orders actions due at the same instant.
var priority = map[string]int{Start: 0, Stop: 1, Pause: 2, Resume: 3, Update: 4, When: 5, Repeat: 6, Log: 10}

// Action is one entry of an action list.
type Action struct {
	Type string
	At   time.Duration // offset from the start of its list's clock (profile, loop iteration, condition)
	If   Cond

	Options   []Field  // start, update, log (message, level)
	Args      []string // start
	Overrides []Field  // start: config_overrides

	Every   time.Duration // repeat
	MaxTime time.Duration // repeat; 0 = none
	While   Cond          // repeat
	Until   Cond          // when

	Actions []*Action // repeat, when

	Pos  Pos
	Path string
}

// Basic reports whether a is neither repeat nor when.
func (a *Action) Basic() bool { return a.Type != Repeat && a.Type != When }

// Field is one key of an options or config_overrides map, in document order.
type Field struct {
	Key   string
	Value any
	// Expr is set when Value is a string that is entirely ${{ … }}.
	Expr *Expr
}

// Cond is a condition: absent (true), a literal boolean, or an expression.
type Cond struct {
	Set  bool
	Lit  bool
	Expr *Expr
}

// Option returns the value of option key ("" if absent) as text.
func (a *Action) Option(key string) (Field, bool) {
	for _, f := range a.Options {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Pos is a position in the YAML source, 1-based.
type Pos struct {
	Line, Column int
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// Severity of a diagnostic.
const (
	SevError   = "error"
	SevWarning = "warning"
)

// Diagnostic is one finding about a profile.
type Diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Path     string `json:"path"`
	Hint     string `json:"hint,omitempty"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

func (d Diagnostic) String() string {
	s := fmt.Sprintf("line %d, column %d: %s %s", d.Line, d.Column, d.Severity, d.Code)
	if d.Path != "" {
		s += " at " + d.Path
	}
	s += ": " + d.Message
	if d.Hint != "" {
		s += " (" + d.Hint + ")"
	}
	return s
}

// Diagnostics is a profile's findings.
type Diagnostics []Diagnostic

// Errors are the diagnostics of severity error.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == SevError {
			out = append(out, d)
		}
	}
	return out
}

// Warnings are the diagnostics of severity warning.
func (ds Diagnostics) Warnings() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == SevWarning {
			out = append(out, d)
		}
	}
	return out
}

// Err is nil without error diagnostics, else an error wrapping ErrInvalid listing them.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	msg := errs[0].String()
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	return fmt.Errorf("%w: %s", ErrInvalid, msg)
}
