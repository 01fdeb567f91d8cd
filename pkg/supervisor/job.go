package supervisor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Job is one activity. Run declares its settings, prepares hardware, calls rt.Ready, then works
// until ctx ends (a stop request), applying rt.Commands() on its own goroutine. Returning nil
// after ctx ends is a clean stop; an error or a panic ends the job, and the supervisor still
// leaves its hardware safe.
type Job interface {
	Run(ctx context.Context, rt *Runtime) error
}

// Spec is one entry of the job table.
type Spec struct {
	Name string
	// LongRunning jobs (monitor) run under $experiment, need no active unit and survive a
	// stop of all jobs.
	LongRunning bool
	// Action marks a one-shot action with the light lifecycle (docs/mqtt.md, "Actions"): several
	// instances of it may run at once (action.go).
	Action bool
	// New checks the options and builds the job; an error refuses the start before anything
	// is published.
	New func(o Options) (Job, error)
	// UI describes the job to a dashboard; nil leaves it out of the descriptors.
	UI *UI
}

// Options are a start request's options with the job's configuration snapshot.
type Options struct {
	Values     map[string]any
	Args       []string // the request's positional arguments (experiment_profile execute FILE EXP)
	Config     *config.Config
	Unit       string
	Experiment string
	// Model is the unit's bioreactor model: the run request's MODEL_NAME/MODEL_VERSION when
	// it names both (the leader sends its inventory's), else Config.Model's; zero if unknown.
	Model contract.Model
}

// Has reports whether an option was given with a non-null value.
func (o Options) Has(name string) bool {
	v, ok := o.Values[name]
	return ok && v != nil
}

// Float reads a numeric option, accepting JSON numbers and numeric strings.
func (o Options) Float(name string, fallback float64) (float64, error) {
	v, ok := o.Values[name]
	if !ok || v == nil {
		return fallback, nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("option %s: %q is not a number", name, x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("option %s: %v is not a number", name, v)
}

// Bool reads a boolean option, accepting JSON booleans and the lenient words of the contract.
func (o Options) Bool(name string, fallback bool) (bool, error) {
	v, ok := o.Values[name]
	if !ok || v == nil {
		return fallback, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		return x != 0, nil
	case string:
		switch x {
		case "1", "true", "True", "yes", "on", "y", "t":
			return true, nil
		case "0", "false", "False", "no", "off", "n", "f":
			return false, nil
		}
	}
	return false, fmt.Errorf("option %s: %v is not a boolean", name, v)
}

// String reads a string option.
func (o Options) String(name, fallback string) string {
	v, ok := o.Values[name]
	if !ok || v == nil {
		return fallback
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
