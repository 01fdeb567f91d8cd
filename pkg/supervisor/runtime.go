package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// publishTimeout bounds the wait for the broker's acknowledgement of a setting (spec: ≤ 5 s).
const publishTimeout = 5 * time.Second

// Runtime is a running job's handle on the supervisor: its identity, settings, commands,
// hardware and MQTT connection. Methods other than Apply and Commands may be called from any
// goroutine of the job.
type Runtime struct {
	unit, experiment, job string
	jobID                 int64
	clock                 clock.Clock
	log                   *slog.Logger
	conn                  pubsub.Client
	registry              Registry
	board                 hal.Board
	pwms                  *pwmBank
	hooks                 any // the Job, checked for Sleeper/Waker

	inbox   *inbox
	readyCh chan struct{}
	stop    func() // requests the end of the job
	// requested is the wall time of the start request; movesLiquid marks a job that must not
	// start late (see maxLiquidStartDelay).
	requested   time.Time
	movesLiquid bool
	helpers     sync.WaitGroup // goroutines started with Go

	mu       sync.Mutex
	state    State
	settings map[string]*declared
	order    []string // declaration order, for republishing and AutomationSettings
	claimed  []string // PWM channels this job holds
	stopping bool
	joined   bool // helpers were joined: Go starts nothing more
}

type declared struct {
	Setting
	value any
	set   bool // a value was ever assigned (unassigned settings are not cleared at stop)
}

type command struct {
	attr    string
	payload []byte
}

// Unit is the unit's name; Experiment the job's experiment; Job the job's name.
func (rt *Runtime) Unit() string       { return rt.unit }
func (rt *Runtime) Experiment() string { return rt.experiment }
func (rt *Runtime) Job() string        { return rt.job }
func (rt *Runtime) JobID() int64       { return rt.jobID }

// Clock is the only time source a job may use.
func (rt *Runtime) Clock() clock.Clock { return rt.clock }

// Log carries unit, experiment and job attributes, so records also reach MQTT.
func (rt *Runtime) Log() *slog.Logger { return rt.log }

// Board gives the shared devices (LEDs, photodiodes, hall sensor, thermometer). PWM outputs
// are claimed with PWM.
func (rt *Runtime) Board() hal.Board {
	b := rt.board
	b.PWM = nil
	return b
}

// State is the job's current lifecycle state.
func (rt *Runtime) State() State {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.state
}

// Declare adds settings; a bad declaration fails the job's start.
func (rt *Runtime) Declare(settings ...Setting) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, s := range settings {
		if err := s.validate(); err != nil {
			return err
		}
		if _, dup := rt.settings[s.Name]; dup {
			return fmt.Errorf("%w: %s declared twice", ErrBadSetting, s.Name)
		}
		rt.settings[s.Name] = &declared{Setting: s}
		rt.order = append(rt.order, s.Name)
	}
	return nil
}

// Remove un-declares a setting and clears its retained value.
func (rt *Runtime) Remove(ctx context.Context, name string) error {
	rt.mu.Lock()
	d, ok := rt.settings[name]
	if ok {
		delete(rt.settings, name)
		rt.order = without(rt.order, name)
	}
	rt.mu.Unlock()
	if !ok || !d.set {
		return nil
	}
	return rt.clear(ctx, name)
}

// Set assigns a declared setting and publishes it retained at QoS 2 (nil clears it).
func (rt *Runtime) Set(ctx context.Context, name string, v any) error {
	rt.mu.Lock()
	d, ok := rt.settings[name]
	if ok {
		d.value, d.set = v, true
	}
	rt.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s is not declared", ErrBadSetting, name)
	}
	return rt.publishSetting(ctx, name, v)
}

// Value returns a setting's current value (nil if unset).
func (rt *Runtime) Value(name string) any {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if d, ok := rt.settings[name]; ok {
		return d.value
	}
	return nil
}

// Values snapshots every setting that has a value, including state.
func (rt *Runtime) Values() map[string]any {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := map[string]any{"state": string(rt.state)}
	for name, d := range rt.settings {
		if d.set && d.value != nil {
			out[name] = d.value
		}
	}
	return out
}

func (rt *Runtime) publishSetting(ctx context.Context, name string, v any) error {
	payload, err := contract.Encode(v)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	attr := name
	if name == "state" {
		attr = contract.StateAttr
	}
	if err := rt.publish(ctx, contract.JobTopic(rt.unit, rt.experiment, rt.job, attr), payload, pubsub.ExactlyOnce, true); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if v == nil {
		return rt.registry.DeleteSetting(rt.jobID, name)
	}
	stored, err := registryForm(v)
	if err != nil {
		return fmt.Errorf("registry form of %s: %w", name, err)
	}
	return rt.registry.PutSetting(rt.jobID, name, stored)
}

func (rt *Runtime) clear(ctx context.Context, name string) error {
	if err := rt.publish(ctx, contract.JobTopic(rt.unit, rt.experiment, rt.job, name), nil, pubsub.ExactlyOnce, true); err != nil {
		return fmt.Errorf("clear %s: %w", name, err)
	}
	return rt.registry.DeleteSetting(rt.jobID, name)
}

// Publish sends a message on the job's connection, waiting at most 5 s for the broker.
func (rt *Runtime) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	return rt.publish(ctx, topic, payload, qos, retain)
}

func (rt *Runtime) publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	return rt.conn.Publish(ctx, topic, payload, qos, retain)
}

// Subscribe listens on the job's connection; h runs on a delivery goroutine, not the job's.
func (rt *Runtime) Subscribe(ctx context.Context, filter string, qos byte, h pubsub.Handler) error {
	return rt.conn.Subscribe(ctx, filter, qos, h)
}

// connectionState is implemented by connections that know whether they are up (the paho
// client, and the outbox's wrapper of it); the monitor's MQTT check reads it.
type connectionState interface{ Connected() bool }

// Connected reports whether the job's MQTT connection is up now. A connection that cannot
// tell (the in-memory bus) counts as up.
func (rt *Runtime) Connected() bool {
	if c, ok := rt.conn.(connectionState); ok {
		return c.Connected()
	}
	return true
}

// Stop asks the supervisor to end this job (as a `disconnected` request would).
func (rt *Runtime) Stop() { rt.stop() }

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
