package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The sensor inputs every automation listens to (docs/jobs.md, "Automation framework"): the latest normalised
// OD, growth rate, raw ODs and fused OD, each with the previous value and the message's own
// timestamp. Values arrive on MQTT delivery goroutines; automations read them from Execute.

const (
	// staleAfter is how old an input may be before Execute refuses it.
	staleAfter = 5 * time.Minute
	// firstValueWait is how long a read waits for a first value of a running producer.
	firstValueWait = 10 * time.Second
)

const (
	jobODReading  = "od_reading"
	jobGrowthRate = "growth_rate_calculating"
	jobStirring   = "stirring"
)

// latestValue is one input stream's latest and previous value.
type latestValue[T any] struct {
	Value, Previous T
	At              time.Time // the message's timestamp
	Have, HavePrev  bool
}

func (l *latestValue[T]) update(v T, at time.Time) {
	if l.Have {
		l.Previous, l.HavePrev = l.Value, true
	}
	l.Value, l.At, l.Have = v, at, true
}

type automationInputs struct {
	clk     clock.Clock
	arrived chan struct{} // signalled after every new value

	mu     sync.Mutex
	nod    latestValue[float64] // growth_rate_calculating/od_filtered
	growth latestValue[float64] // growth_rate_calculating/growth_rate
	ods    latestValue[map[string]float64]
	fused  latestValue[float64]
	states map[string]supervisor.State // producing job → its latest $state
}

func newAutomationInputs(clk clock.Clock) *automationInputs {
	return &automationInputs{clk: clk, arrived: make(chan struct{}, 1), states: map[string]supervisor.State{}}
}

// subscribe listens to the four streams and to the $state of the producing jobs and stirring (retained messages
// accepted, empty payloads ignored).
func (in *automationInputs) subscribe(ctx context.Context, rt *supervisor.Runtime) error {
	unit, exp := rt.Unit(), rt.Experiment()
	subs := map[string]pubsub.Handler{
		contract.JobTopic(unit, exp, jobGrowthRate, "od_filtered"): in.onFloat(&in.nod, "od_filtered"),
		contract.JobTopic(unit, exp, jobGrowthRate, "growth_rate"): in.onFloat(&in.growth, "growth_rate"),
		contract.JobTopic(unit, exp, jobODReading, "od_fused"):     in.onFloat(&in.fused, "od_fused"),
		contract.JobTopic(unit, exp, jobODReading, "ods"):          in.onODs,
	}
	for _, job := range []string{jobODReading, jobGrowthRate, jobStirring} {
		subs[contract.JobTopic(unit, exp, job, contract.StateAttr)] = in.onState(job)
	}
	for topic, h := range subs {
		if err := rt.Subscribe(ctx, topic, pubsub.ExactlyOnce, h); err != nil {
			return fmt.Errorf("subscribe to %s: %w", topic, err)
		}
	}
	return nil
}

func (in *automationInputs) onFloat(dst *latestValue[float64], field string) pubsub.Handler {
	return func(m pubsub.Message) {
		if len(m.Payload) == 0 {
			return
		}
		var raw map[string]json.RawMessage
		var v float64
		var ts contract.Timestamp
		if json.Unmarshal(m.Payload, &raw) != nil || json.Unmarshal(raw[field], &v) != nil || json.Unmarshal(raw["timestamp"], &ts) != nil {
			return // a malformed message is not an input
		}
		in.mu.Lock()
		dst.update(v, ts.Time())
		in.mu.Unlock()
		in.signal()
	}
}

func (in *automationInputs) onODs(m pubsub.Message) {
	if len(m.Payload) == 0 {
		return
	}
	var p struct {
		Timestamp contract.Timestamp `json:"timestamp"`
		ODs       map[string]struct {
			OD float64 `json:"od"`
		} `json:"ods"`
	}
	if json.Unmarshal(m.Payload, &p) != nil || p.ODs == nil {
		return
	}
	ods := make(map[string]float64, len(p.ODs))
	for ch, r := range p.ODs {
		ods[ch] = r.OD
	}
	in.mu.Lock()
	in.ods.update(ods, p.Timestamp.Time())
	in.mu.Unlock()
	in.signal()
}

func (in *automationInputs) onState(job string) pubsub.Handler {
	return func(m pubsub.Message) {
		in.mu.Lock()
		in.states[job] = supervisor.State(m.Payload)
		in.mu.Unlock()
	}
}

func (in *automationInputs) signal() {
	select {
	case in.arrived <- struct{}{}:
	default:
	}
}

// running reports whether a producing job is alive (init, ready or sleeping).
func (in *automationInputs) running(job string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch in.states[job] {
	case supervisor.Init, supervisor.Ready, supervisor.Sleeping:
		return true
	}
	return false
}

// latestNormalizedOD is growth_rate_calculating's od_filtered ("nOD").
func (a *automationBase) latestNormalizedOD(ctx context.Context) (float64, error) {
	v, err := readInput(ctx, a, &a.inputs.nod, "od_filtered", jobODReading, jobGrowthRate)
	return v.Value, err
}

// latestGrowthRate is growth_rate_calculating's growth_rate, per hour.
func (a *automationBase) latestGrowthRate(ctx context.Context) (float64, error) {
	v, err := readInput(ctx, a, &a.inputs.growth, "growth_rate", jobODReading, jobGrowthRate)
	return v.Value, err
}

// latestODs is od_reading's latest OD per channel.
func (a *automationBase) latestODs(ctx context.Context) (map[string]float64, error) {
	v, err := readInput(ctx, a, &a.inputs.ods, "raw OD", jobODReading)
	return v.Value, err
}

// latestODFused is od_reading's fused OD.
func (a *automationBase) latestODFused(ctx context.Context) (float64, error) {
	v, err := readInput(ctx, a, &a.inputs.fused, "fused OD", jobODReading)
	return v.Value, err
}

// readInput returns a copy of an input with its previous value. With no value yet it checks
// that the producers run, then waits up to 10 s (applying commands meanwhile); a value older
// than 5 minutes is refused. Every failure wraps ErrRequiredData.
func readInput[T any](ctx context.Context, a *automationBase, src *latestValue[T], what string, producers ...string) (latestValue[T], error) {
	in := a.inputs
	get := func() latestValue[T] {
		in.mu.Lock()
		defer in.mu.Unlock()
		return *src
	}
	v := get()
	if !v.Have {
		for _, job := range producers {
			if !in.running(job) {
				return v, fmt.Errorf("%w: %s is required but is not running (no %s yet)", ErrRequiredData, job, what)
			}
		}
		var err error
		if v, err = waitInput(ctx, a, get); err != nil {
			return v, err
		}
		if !v.Have {
			return v, fmt.Errorf("%w: no %s received within %v", ErrRequiredData, what, firstValueWait)
		}
	}
	if age := in.clk.Now().Sub(v.At); age > staleAfter {
		return v, fmt.Errorf("%w: %s readings are too stale (%v old, over 5 minutes) - is %s running?", ErrRequiredData, what, age.Round(time.Second), producers[len(producers)-1])
	}
	return v, nil
}

// waitInput waits up to firstValueWait for get to report a value, applying commands meanwhile.
func waitInput[T any](ctx context.Context, a *automationBase, get func() latestValue[T]) (latestValue[T], error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timeout := make(chan error, 1)
	a.rt.Go(func() { timeout <- a.rt.Clock().Sleep(wctx, firstValueWait) })
	for {
		if v := get(); v.Have {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return get(), ctx.Err()
		case <-timeout:
			return get(), nil
		case <-a.inputs.arrived:
		case c := <-a.rt.Commands():
			a.rt.Apply(ctx, c)
		}
	}
}
