package profile

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// iterate runs iteration n of a repeat on one unit, scheduled at at. Iterations are spaced
// from the loop's scheduled start, so they do not drift when an action runs late.
func (r *Run) iterate(ctx context.Context, at time.Time, unit, job string, a *Action, n int) {
	s := r.scope(unit, job)
	if n == 0 {
		if !r.assigned(ctx, unit) {
			return
		}
		ok, err := r.cond(ctx, a.If, s)
		if err != nil {
			r.Log.Error(fmt.Sprintf("Error in action: repeat of %s on %s: if: %v", job, unit, err))
			return
		}
		if !ok {
			r.Log.Debug(fmt.Sprintf("Skipping repeat of %s on %s: its if is false.", job, unit))
			return
		}
	}
	ok, err := r.cond(ctx, a.While, s)
	if err != nil {
		r.Log.Error(fmt.Sprintf("Error in action: repeat of %s on %s: while: %v", job, unit, err))
		return
	}
	if !ok {
		r.Log.Debug(fmt.Sprintf("Repeat of %s on %s ends: its while is false.", job, unit))
		return
	}
	for _, c := range a.Actions {
		if c.At > a.Every {
			r.Log.Warn(fmt.Sprintf("%s of %s at %v comes after the repeat interval %v: it can't ever run.", c.Type, job, c.At, a.Every))
			continue
		}
		r.schedule(at, unit, job, c)
	}
	completed := n + 1
	if a.MaxTime == 0 || time.Duration(completed)*a.Every < a.MaxTime {
		r.sched.add(at.Add(a.Every), priority[Repeat], func(ctx context.Context, next time.Time) {
			r.iterate(ctx, next, unit, job, a, completed)
		})
	}
}

// when checks a condition on one unit; once it holds, its actions are scheduled from now.
func (r *Run) when(ctx context.Context, unit, job string, a *Action) {
	if !r.assigned(ctx, unit) {
		return
	}
	s := r.scope(unit, job)
	ok, err := r.cond(ctx, a.If, s)
	if err != nil {
		r.Log.Error(fmt.Sprintf("Error in action: when of %s on %s: if: %v", job, unit, err))
		return
	}
	if !ok {
		return
	}
	r.check1(ctx, unit, job, a)
}

func (r *Run) check1(ctx context.Context, unit, job string, a *Action) {
	held, err := r.cond(ctx, a.Until, r.scope(unit, job))
	if err != nil {
		if !errors.Is(err, ErrNoValue) {
			r.Log.Error(fmt.Sprintf("Error in action: when of %s on %s: %v", job, unit, err))
			return
		}
		r.missing++
		if r.missing%45 == 1 {
			r.Log.Warn(fmt.Sprintf("when of %s on %s: %v; treated as false", job, unit, err))
		}
		held = false
	}
	now := r.Clock.Now()
	if held {
		for _, c := range a.Actions {
			r.schedule(now, unit, job, c)
		}
		return
	}
	u := r.Random
	if u == nil {
		u = r.scope(unit, job).Random
	}
	wait := time.Duration((15 + 10*u()) * float64(time.Second))
	r.sched.add(now.Add(wait), priority[When], func(ctx context.Context, _ time.Time) { r.check1(ctx, unit, job, a) })
}
