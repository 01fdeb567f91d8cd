package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

const oneSecond = time.Second

// pwmToPin is the HAT's channel → BCM pin wiring (docs/hardware.md, "PWM channels"), used as the key of the
// `pwms/dc` snapshot that dashboards read.
var pwmToPin = map[string]string{"1": "17", "2": "13", "3": "16", "4": "12", "5": "18"}

// pwmBank hands out a unit's PWM channels, one job at a time, and remembers every duty cycle
// so that it can publish the unit's `pwms/dc` snapshot and force outputs off.
type pwmBank struct {
	outputs map[string]hal.PWM
	mu      sync.Mutex
	owner   map[string]string // channel -> job
	dc      map[string]float64
}

func newPWMBank(outputs map[string]hal.PWM) *pwmBank {
	return &pwmBank{outputs: outputs, owner: map[string]string{}, dc: map[string]float64{}}
}

// PWM claims a channel for this job; it is set to 0 and released when the job ends.
func (rt *Runtime) PWM(channel string) (hal.PWM, error) {
	b := rt.pwms
	b.mu.Lock()
	defer b.mu.Unlock()
	out, ok := b.outputs[channel]
	if !ok {
		return nil, fmt.Errorf("PWM channel %s: %w", channel, hal.ErrNotPresent)
	}
	if owner, taken := b.owner[channel]; taken {
		return nil, fmt.Errorf("%w: channel %s is held by %s", ErrPWMInUse, channel, owner)
	}
	b.owner[channel] = rt.job
	rt.mu.Lock()
	rt.claimed = append(rt.claimed, channel)
	rt.mu.Unlock()
	return &claimedPWM{rt: rt, channel: channel, out: out}, nil
}

type claimedPWM struct {
	rt      *Runtime
	channel string
	out     hal.PWM
}

func (p *claimedPWM) SetDutyCycle(percent float64) error {
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("duty cycle %v%% on PWM channel %s: must be within 0–100", percent, p.channel)
	}
	if err := p.out.SetDutyCycle(percent); err != nil {
		return fmt.Errorf("PWM channel %s: %w", p.channel, err)
	}
	p.rt.pwms.record(p.channel, percent)
	p.rt.publishPWMs()
	return nil
}

func (b *pwmBank) record(channel string, percent float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if percent == 0 {
		delete(b.dc, channel)
	} else {
		b.dc[channel] = percent
	}
}

// snapshot is the `pwms/dc` payload: pin → duty cycle, non-zero entries only.
func (b *pwmBank) snapshot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]contract.Decimal, len(b.dc))
	for ch, dc := range b.dc {
		m[pwmToPin[ch]] = contract.Decimal(dc)
	}
	out, _ := json.Marshal(m) // a map of Decimals always marshals
	return out
}

func (rt *Runtime) publishPWMs() {
	topic := contract.Topic(rt.unit, rt.experiment, "pwms", "dc")
	if err := rt.publish(context.Background(), topic, rt.pwms.snapshot(), pubsub.AtMostOnce, true); err != nil {
		rt.log.Debug("publish pwms/dc", "err", err)
	}
}

// releasePWMs forces every channel the job claimed to 0 and frees it. It runs after the job
// ended, whatever the way, so a crashed job never leaves a pump or the heater on.
func (rt *Runtime) releasePWMs() {
	rt.mu.Lock()
	claimed := rt.claimed
	rt.claimed = nil
	rt.mu.Unlock()
	if len(claimed) == 0 {
		return
	}
	b := rt.pwms
	for _, ch := range claimed {
		if err := b.outputs[ch].SetDutyCycle(0); err != nil {
			rt.log.Error("could not switch PWM off", "channel", ch, "err", err)
		}
		b.record(ch, 0)
		b.mu.Lock()
		delete(b.owner, ch)
		b.mu.Unlock()
	}
	rt.publishPWMs()
}

// zeroAll switches every output off and forgets every duty cycle. At supervisor start no job
// holds an output, whatever a killed predecessor left on.
func (b *pwmBank) zeroAll(log *slog.Logger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, out := range b.outputs {
		if err := out.SetDutyCycle(0); err != nil {
			log.Error("could not switch PWM off at start", "channel", ch, "err", err)
		}
	}
	clear(b.dc)
}

// correctPWMs answers every retained `pwms/dc` snapshot of this unit that is not the truth
// with the true one. Retained copies arrive when the supervisor subscribes (at start and
// after a reconnect), so a snapshot left by a killed daemon (a pump shown at 100 %) is
// replaced under whichever experiment it was published.
func (s *Supervisor) correctPWMs(conn pubsub.Client) pubsub.Handler {
	return func(m pubsub.Message) {
		if !m.Retained {
			return // a live snapshot comes from one of our jobs
		}
		truth := s.pwms.snapshot()
		if bytes.Equal(m.Payload, truth) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		defer cancel()
		if err := conn.Publish(ctx, m.Topic, truth, pubsub.AtLeastOnce, true); err != nil {
			s.cfg.Log.Warn("could not correct a stale pwms/dc", "topic", m.Topic, "err", err)
			return
		}
		s.cfg.Log.Info("corrected a stale pwms/dc", "topic", m.Topic, "was", echo(m.Payload), "now", string(truth))
	}
}
