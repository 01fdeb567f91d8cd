package simtruth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// DefaultEvery is the sampling period when Config.Every is 0: the OD job's default
// interval, so that every growth-rate estimate has a truth within half an interval.
const DefaultEvery = 5 * time.Second

// clearTimeout bounds the final clearing publish once Run's context has ended.
const clearTimeout = 2 * time.Second

// Config wires a Publisher to one simulated unit. Every field but Every and Log is required.
type Config struct {
	Unit string
	// Truth reads the plant's state at the clock's now: (*sim.Bioreactor).Truth.
	Truth func() sim.Truth
	// Experiment is the unit's current assignment, "" when it has none
	// ((*supervisor.Supervisor).Experiment).
	Experiment func() string
	Dialer     pubsub.Dialer
	Clock      clock.Clock
	Log        *slog.Logger
	// Every is the sampling period in the clock's time; 0 means DefaultEvery.
	Every time.Duration
}

// Publisher samples a simulated unit's truth and publishes it while the unit is assigned.
type Publisher struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	latest contract.SimulationTruth
	have   bool
}

// New checks cfg and returns an idle Publisher; Run starts it.
func New(cfg Config) (*Publisher, error) {
	if cfg.Unit == "" || cfg.Truth == nil || cfg.Experiment == nil || cfg.Dialer == nil || cfg.Clock == nil {
		return nil, errors.New("simtruth: Unit, Truth, Experiment, Dialer and Clock are required")
	}
	if cfg.Every < 0 {
		return nil, fmt.Errorf("simtruth: period %v must not be negative", cfg.Every)
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultEvery
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{cfg: cfg, log: log.With("unit", cfg.Unit, "job", contract.SimulationJob)}, nil
}

// Latest is the last sample; ok is false before the first.
func (p *Publisher) Latest() (v contract.SimulationTruth, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latest, p.have
}

// Payload converts the plant's state to the wire form.
func Payload(t sim.Truth) contract.SimulationTruth {
	return contract.SimulationTruth{
		Timestamp:             contract.Timestamp(t.Time),
		OD:                    contract.Decimal(t.OD),
		GrowthRatePerHour:     contract.Decimal(t.GrowthRatePerHour),
		LiquidTemperatureC:    contract.Decimal(t.LiquidC),
		HeaterPCBTemperatureC: contract.Decimal(t.HeaterC),
		VolumeML:              contract.Decimal(t.VolumeML),
		RPM:                   contract.Decimal(t.RPM),
		AltMediaFraction:      contract.Decimal(t.AltMediaFraction),
	}
}

// Run samples every Config.Every until ctx ends, then clears its retained topic.
func (p *Publisher) Run(ctx context.Context) error {
	conn, err := p.cfg.Dialer.Dial(ctx, pubsub.Options{ClientID: "simulation-truth-" + p.cfg.Unit + "-" + pubsub.ClientSuffix()})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect the simulation truth of %s: %w", p.cfg.Unit, err)
	}
	defer conn.Close()
	tick := p.cfg.Clock.NewTicker(p.cfg.Every)
	defer tick.Stop()
	var topic string // where our retained truth is, "" if nowhere
	for {
		select {
		case <-ctx.Done():
			if topic != "" {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), clearTimeout)
				p.clear(cctx, conn, topic)
				cancel()
			}
			return nil
		case <-tick.C():
			topic = p.sample(ctx, conn, topic)
		}
	}
}

// sample reads the truth and publishes it to the unit's current experiment, moving off
// the experiment of the previous sample (at old) if the assignment changed. It returns
// where the retained truth now is.
func (p *Publisher) sample(ctx context.Context, conn pubsub.Client, old string) string {
	v := Payload(p.cfg.Truth())
	p.mu.Lock()
	p.latest, p.have = v, true
	p.mu.Unlock()
	topic := ""
	if exp := p.cfg.Experiment(); exp != "" {
		topic = contract.SimulationTruthTopic(p.cfg.Unit, exp)
	}
	if old != "" && old != topic {
		p.clear(ctx, conn, old)
	}
	if topic == "" {
		return ""
	}
	if err := conn.Publish(ctx, topic, contract.Marshal(v), pubsub.AtLeastOnce, true); err != nil {
		if ctx.Err() == nil {
			p.log.Warn("could not publish the simulation truth", "topic", topic, "err", err)
		}
	}
	return topic
}

// clear removes the retained truth at topic (an empty retained message).
func (p *Publisher) clear(ctx context.Context, conn pubsub.Client, topic string) {
	if err := conn.Publish(ctx, topic, nil, pubsub.AtLeastOnce, true); err != nil {
		p.log.Warn("could not clear the simulation truth", "topic", topic, "err", err)
	}
}
