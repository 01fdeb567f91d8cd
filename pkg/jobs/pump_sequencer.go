package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The `pumps` action (docs/jobs.md "pumps"): a sequence of pump doses and pauses given as
// argument pairs `<pump> <value>`, run in order: `media`, `alt_media` and `waste` in mL,
// `sleep` in seconds. Names are normalised as the reference's CLI does: leading dashes
// dropped, one trailing underscore dropped (so a profile can repeat `--media_`), dashes
// become underscores.

// PumpsJobName is the sequencer's job name.
const PumpsJobName = "pumps"

// NewPumpsSpec is the job table entry.
func NewPumpsSpec(d *Dosing) supervisor.Spec {
	return supervisor.Spec{Name: PumpsJobName, Action: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newPumps(d, o)
	}}
}

// pumpStep is one step of the sequence: a dose (kind set) or a pause.
type pumpStep struct {
	kind  *pumpKind
	value float64 // mL for a dose, seconds for a pause
}

type pumps struct {
	d     *Dosing
	o     supervisor.Options
	steps []pumpStep
}

func newPumps(d *Dosing, o supervisor.Options) (*pumps, error) {
	steps, err := parsePumpSteps(o.Args)
	if err != nil {
		return nil, err
	}
	p := &pumps{d: d, o: o, steps: steps}
	// Every dose must be possible before the first moves (calibration, PWM channel, range);
	// the overflow guard is applied again right before each dose.
	for _, s := range steps {
		if s.kind == nil {
			continue
		}
		if _, err := p.action(s, true); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parsePumpSteps reads the argument pairs.
func parsePumpSteps(args []string) ([]pumpStep, error) {
	if len(args) == 0 || len(args)%2 != 0 {
		return nil, fmt.Errorf("%w: got %d arguments", ErrPumpsUsage, len(args))
	}
	var steps []pumpStep
	for i := 0; i < len(args); i += 2 {
		name := strings.TrimLeft(args[i], "-")
		name = strings.TrimSuffix(name, "_")
		name = strings.ReplaceAll(name, "-", "_")
		v, err := strconv.ParseFloat(args[i+1], 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q is not a number", ErrPumpsUsage, name, args[i+1])
		}
		s := pumpStep{value: v}
		switch name {
		case "media":
			s.kind = &mediaPump
		case "alt_media":
			s.kind = &altMediaPump
		case "waste":
			s.kind = &wastePump
		case "sleep":
			if _, err := durationIn("sleep", v, time.Second, 0, maxPumpRun); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrPumpsUsage, err)
			}
		default:
			return nil, fmt.Errorf("%w: unknown pump %q", ErrPumpsUsage, args[i])
		}
		if s.kind != nil {
			if err := checkVolume(name, v); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrPumpsUsage, err)
			}
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// action is the pump action of a dose step, checked as a start of that action would be.
// validating: before anything ran, when the overflow guard cannot judge a later dose yet
// (an earlier waste step may lower the volume), so it is applied before each dose instead.
func (p *pumps) action(s pumpStep, validating bool) (*pumpAction, error) {
	o := p.o
	o.Values = map[string]any{"ml": s.value, "source_of_event": p.source()}
	a, err := newPumpAction(p.d, *s.kind, o)
	if validating && errors.Is(err, ErrOverflow) {
		return a, nil
	}
	return a, err
}

func (p *pumps) source() string {
	if v := p.o.String("source_of_event", ""); v != "" {
		return v
	}
	return PumpsJobName
}

// Run implements supervisor.Job: each step in order; a stop ends the sequence after the
// running dose is cut short and corrected.
func (p *pumps) Run(ctx context.Context, rt *supervisor.Runtime) error {
	claimed := map[string]hal.PWM{}
	for _, s := range p.steps { // before ready: a busy pump fails the start
		if s.kind == nil {
			continue
		}
		a, err := p.action(s, true)
		if err != nil {
			return err
		}
		if _, ok := claimed[a.channel]; !ok {
			pwm, err := claimPump(rt, *s.kind, a.channel)
			if err != nil {
				return err
			}
			claimed[a.channel] = pwm
		}
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	events := newEventSink(rt)
	defer events.close()
	for _, s := range p.steps {
		if s.kind == nil {
			rt.Log().Info(fmt.Sprintf("Sleeping for %ss.", round2(s.value)))
			if err := rt.Clock().Sleep(ctx, seconds(s.value)); err != nil {
				return nil
			}
			continue
		}
		a, err := p.action(s, false) // the overflow guard with the volume as it is now
		if err != nil {
			return err
		}
		run := &pumpRun{rt: rt, kind: a.kind, cal: a.cal, pwm: claimed[a.channel], source: a.source, events: events,
			wait: rt.Clock().Sleep}
		rt.Log().Info(fmt.Sprintf("%s %s mL %s.", a.kind.verb, round3(a.ml), a.kind.liquid))
		if _, err := run.finite(ctx, a.seconds, a.ml); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}
