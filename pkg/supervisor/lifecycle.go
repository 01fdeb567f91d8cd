package supervisor

import (
	"context"
	"fmt"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Sleeper is implemented by jobs that act when paused (stirring stops the motor).
type Sleeper interface {
	Sleep(ctx context.Context) error
}

// Waker is implemented by jobs that act when resumed.
type Waker interface {
	Wake(ctx context.Context) error
}

// Ready ends initialisation: the job starts listening for commands and publishes `ready`.
// Jobs call it once, after declaring settings and preparing hardware.
func (rt *Runtime) Ready(ctx context.Context) error {
	if err := rt.startLate(); err != nil {
		return err
	}
	for _, unit := range []string{rt.unit, contract.Broadcast} {
		if err := rt.conn.Subscribe(ctx, contract.SetFilter(unit, rt.experiment, rt.job), pubsub.ExactlyOnce, rt.onSet); err != nil {
			return fmt.Errorf("subscribe to /set: %w", err)
		}
	}
	own := contract.JobTopic(rt.unit, rt.experiment, rt.job, contract.StateAttr)
	if err := rt.conn.Subscribe(ctx, own, pubsub.AtMostOnce, rt.onOwnState); err != nil {
		return fmt.Errorf("subscribe to own state: %w", err)
	}
	if err := rt.moveTo(ctx, Ready); err != nil {
		return err
	}
	close(rt.readyCh)
	return nil
}

// Commands delivers /set requests; the job passes each to Apply on its own goroutine.
func (rt *Runtime) Commands() <-chan command { return rt.inbox.ch }

// Serve applies commands until ctx ends: the whole main loop of a job with no periodic work.
func (rt *Runtime) Serve(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.inbox.ch:
			rt.Apply(ctx, c)
		}
	}
}

// onSet runs on the delivery goroutine: it only queues, so the job sees commands in order.
func (rt *Runtime) onSet(m pubsub.Message) {
	if m.Retained {
		return // retained /set messages are ignored (docs/mqtt.md, "Job topics")
	}
	p, ok := contract.Parse(m.Topic)
	if !ok {
		return
	}
	attr := strings.TrimPrefix(p.Attr, "$")
	if attr == "state" && State(strings.TrimSpace(string(m.Payload))) == Disconnected {
		rt.log.Info("Updated state from " + string(rt.State()) + " to disconnected.")
		rt.stop() // stop at once, even while the job is busy
		return
	}
	rt.mu.Lock()
	_, known := rt.settings[attr]
	rt.mu.Unlock()
	if !known {
		rt.log.Debug("set of unknown attribute ignored", "attr", echo([]byte(attr)))
		return // never queued: the inbox holds one entry per declared setting at most
	}
	rt.inbox.put(command{attr: attr, payload: m.Payload})
}

// onOwnState repairs a `lost` written by the broker while this job was in fact alive
// (a last will fired during a network blip).
func (rt *Runtime) onOwnState(m pubsub.Message) {
	if State(m.Payload) != Lost {
		return
	}
	st := rt.State()
	if st == Lost || st == Init || st == Disconnected {
		return
	}
	ctx := context.Background()
	if err := rt.clock.Sleep(ctx, oneSecond); err != nil {
		return
	}
	if err := rt.publishSetting(ctx, "state", string(rt.State())); err != nil {
		rt.log.Debug("republish state after lost", "err", err)
	}
}

// Apply executes one command on the job's goroutine (docs/mqtt.md, "Setting a value").
func (rt *Runtime) Apply(ctx context.Context, c command) {
	if c.attr == "state" {
		rt.applyState(ctx, State(strings.TrimSpace(string(c.payload))))
		return
	}
	rt.mu.Lock()
	d, ok := rt.settings[c.attr]
	var old any
	var set bool
	if ok {
		old, set = d.value, d.set
	}
	rt.mu.Unlock()
	switch {
	case !ok:
		rt.log.Debug("set of unknown attribute ignored", "attr", echo([]byte(c.attr)))
		return
	case !d.Settable:
		rt.log.Warn(fmt.Sprintf("Unable to set `%s` in %s. `%s` is read-only.", c.attr, rt.job, c.attr))
		return
	case !set:
		rt.log.Debug("set of attribute without a value ignored", "attr", c.attr)
		return
	}
	v, err := decodeSet(d.Datatype, c.payload)
	if err == nil {
		if d.OnSet != nil {
			err = d.OnSet(v)
		} else {
			err = rt.Set(ctx, c.attr, v)
		}
	}
	if err != nil {
		rt.log.Error(clip(err.Error())) // a setter's error may quote the whole value
		return
	}
	rt.log.Info(fmt.Sprintf("Updated %s from %s to %s.", c.attr, describe(old, d.Unit), describe(rt.Value(c.attr), d.Unit)))
}

func (rt *Runtime) applyState(ctx context.Context, to State) {
	from := rt.State()
	switch {
	case !to.Valid():
		rt.log.Error(fmt.Sprintf("saw %s: not a valid state", echo([]byte(to))))
		return
	case to == from:
		return
	case !canMove(from, to):
		rt.log.Error(fmt.Sprintf("cannot move from %s to %s", from, to))
		return
	}
	if err := rt.moveTo(ctx, to); err != nil {
		rt.log.Error(err.Error())
		return
	}
	rt.log.Info(fmt.Sprintf("Updated state from %s to %s.", from, to))
}

// moveTo publishes the new state and runs the job's hook for it.
func (rt *Runtime) moveTo(ctx context.Context, to State) error {
	rt.mu.Lock()
	if rt.stopping && to != Disconnected {
		rt.mu.Unlock()
		return nil // once disconnect is requested, nothing else is honoured
	}
	rt.state = to
	rt.mu.Unlock()
	if err := rt.publishSetting(ctx, "state", string(to)); err != nil {
		return err
	}
	switch to {
	case Ready:
		if w, ok := rt.hooks.(Waker); ok && rt.isReadyDone() {
			if err := w.Wake(ctx); err != nil {
				rt.log.Error("wake", "err", err)
			}
		}
		rt.log.Info("Ready.")
	case Sleeping:
		if s, ok := rt.hooks.(Sleeper); ok {
			if err := s.Sleep(ctx); err != nil {
				rt.log.Error("sleep", "err", err)
			}
		}
		rt.log.Debug("Sleeping.")
	case Init:
		rt.log.Debug("Init.")
	case Disconnected:
		rt.log.Info("Disconnected.")
	}
	return nil
}

// isReadyDone tells a resume from the first ready, which needs no Wake.
func (rt *Runtime) isReadyDone() bool {
	select {
	case <-rt.readyCh:
		return true
	default:
		return false
	}
}
