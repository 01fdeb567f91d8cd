package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// turbidostat exchanges exchange_volume_ml each time the biomass signal reaches
// target_biomass (docs/jobs.md, "dosing_automation"). It has no timer: every new reading of the selected
// signal triggers a run, and a dose is followed by 30 s of settling.
type turbidostat struct {
	a         *DosingAutomation
	exchange  float64
	target    float64
	odChannel string // for biomass_signal od; "" when the config has no signal channel
	warnOD    string // warning about several channels, logged at start

	mu          sync.Mutex // signal and settleUntil are read on delivery goroutines
	signal      string     // resolved: normalized_od, od or od_fused
	settleUntil time.Time
	sample      biomassSample // the reading of the latest trigger
}

// biomassSample is one reading of a biomass signal.
type biomassSample struct {
	signal string
	value  float64
	at     time.Time
}

const (
	signalAuto   = "auto"
	signalNOD    = "normalized_od"
	signalOD     = "od"
	signalFused  = "od_fused"
	settleWindow = 30 * time.Second
)

func newTurbidostat(o supervisor.Options, a *DosingAutomation) (Automation, error) {
	t := &turbidostat{a: a}
	var err error
	if t.exchange, err = floatOption(o, "exchange_volume_ml", 0, true); err != nil {
		return nil, err
	}
	if !o.Has("target_biomass") {
		//lint:ignore ST1005 the reference's message, which users and scripts know
		return nil, errors.New("Provide a target biomass.")
	}
	if t.target, err = o.Float("target_biomass", 0); err != nil {
		return nil, err
	}
	if math.IsNaN(t.target) || math.IsInf(t.target, 0) {
		return nil, fmt.Errorf("target_biomass %v is not a number", t.target)
	}
	if t.odChannel, t.warnOD, err = signalChannel(o); err != nil {
		return nil, err
	}
	sig := o.String("biomass_signal", o.Config.String("dosing_automation.turbidostat", "biomass_signal", signalAuto))
	if t.signal, err = t.resolve(sig); err != nil {
		return nil, err
	}
	return t, a.needPumps(o, mediaPump, wastePump)
}

// signalChannel is the single non-REF photodiode channel; with several, the lowest (with a
// warning); with none, "".
func signalChannel(o supervisor.Options) (ch, warning string, err error) {
	channels, err := o.Config.PhotodiodeChannels()
	if err != nil {
		return "", "", err
	}
	var signal []string
	for c, angle := range channels {
		if angle != "REF" {
			signal = append(signal, c)
		}
	}
	sort.Slice(signal, func(i, j int) bool {
		a, _ := strconv.Atoi(signal[i])
		b, _ := strconv.Atoi(signal[j])
		return a < b
	})
	switch len(signal) {
	case 0:
		return "", "", nil
	case 1:
		return signal[0], "", nil
	}
	return signal[0], fmt.Sprintf("several OD channels %v: the turbidostat's od signal uses channel %s", signal, signal[0]), nil
}

// resolve checks a biomass_signal and resolves auto: od_fused when an od_fused estimator is
// active, else od when an OD calibration is active for the signal channel's angle, else
// normalized_od.
func (t *turbidostat) resolve(sig string) (string, error) {
	switch sig {
	case signalNOD, signalFused:
		return sig, nil
	case signalOD:
		if t.odChannel == "" {
			return "", fmt.Errorf("biomass_signal od needs a signal photodiode channel in [od_config.photodiode_channel]")
		}
		return sig, nil
	case signalAuto:
		if est, err := loadActiveFusedEstimator(t.a.d.Estimators); err == nil && est != nil {
			return signalFused, nil
		}
		if t.odChannel != "" && t.a.d.Calibrations != nil {
			if angle, err := t.a.conf.PhotodiodeChannels(); err == nil {
				if _, ok, err := t.a.d.Calibrations.Active("od" + angle[t.odChannel]); ok && err == nil {
					return signalOD, nil
				}
			}
		}
		return signalNOD, nil
	}
	return "", fmt.Errorf("biomass_signal %q must be one of auto, normalized_od, od_fused, od", sig)
}

func (t *turbidostat) Settings() []supervisor.Setting {
	return []supervisor.Setting{
		volumeSetting(t.a, "exchange_volume_ml", &t.exchange),
		finiteSetting(t.a, "target_biomass", "OD/AU", &t.target, nil),
		{Name: "biomass_signal", Datatype: contract.String, Settable: true, OnSet: func(v any) error {
			sig, err := t.resolve(v.(string))
			if err != nil {
				return err
			}
			t.mu.Lock()
			t.signal = sig
			t.mu.Unlock()
			return t.a.set(t.a.ctx, "biomass_signal", sig)
		}},
	}
}

func (t *turbidostat) Start(ctx context.Context) error {
	a := t.a
	if t.warnOD != "" {
		a.rt.Log().Warn(t.warnOD)
	}
	for name, v := range map[string]float64{"exchange_volume_ml": t.exchange, "target_biomass": t.target} {
		if err := a.set(ctx, name, v); err != nil {
			return err
		}
	}
	if err := a.set(ctx, "biomass_signal", t.currentSignal()); err != nil {
		return err
	}
	// The base's inputs hold these exact topics on this connection, and a second subscription
	// to a filter replaces the first: listen through the jobs' wildcards instead.
	unit, exp := a.rt.Unit(), a.rt.Experiment()
	for _, job := range []string{jobGrowthRate, jobODReading} {
		topic := contract.JobTopic(unit, exp, job, "+")
		if err := a.rt.Subscribe(ctx, topic, pubsub.ExactlyOnce, t.onSignal); err != nil {
			return fmt.Errorf("subscribe to %s: %w", topic, err)
		}
	}
	return nil
}

func (t *turbidostat) currentSignal() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.signal
}

func (t *turbidostat) settling() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.a.rt.Clock().Now().Before(t.settleUntil)
}

// signalOf maps a topic's job and attribute to the biomass signal it carries.
func signalOf(job, attr string) string {
	switch {
	case job == jobGrowthRate && attr == "od_filtered":
		return signalNOD
	case job == jobODReading && attr == "ods":
		return signalOD
	case job == jobODReading && attr == "od_fused":
		return signalFused
	}
	return ""
}

// onSignal triggers a run on a new reading of the selected signal, while ready and not
// settling, and keeps the reading for that run (the base's copy may arrive a moment later).
// The trigger channel holds one run, so a burst during a run gives one more run.
func (t *turbidostat) onSignal(m pubsub.Message) {
	p, ok := contract.Parse(m.Topic)
	if !ok || m.Retained || len(m.Payload) == 0 || len(p.Rest) > 0 || signalOf(p.Job, p.Attr) != t.currentSignal() {
		return
	}
	if t.a.rt.State() != supervisor.Ready || t.settling() {
		return
	}
	x, at, err := t.decode(p.Attr, m.Payload)
	if err != nil {
		t.a.rt.Log().Debug("undecodable biomass signal", "topic", m.Topic, "err", err)
		return
	}
	t.mu.Lock()
	t.sample = biomassSample{signal: signalOf(p.Job, p.Attr), value: x, at: at}
	t.mu.Unlock()
	select {
	case t.a.trigger <- struct{}{}:
	default:
	}
}

// decode reads the signal's value and timestamp from its payload.
func (t *turbidostat) decode(attr string, payload []byte) (float64, time.Time, error) {
	switch attr {
	case "ods":
		var p struct {
			Timestamp contract.Timestamp `json:"timestamp"`
			ODs       map[string]struct {
				OD float64 `json:"od"`
			} `json:"ods"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return 0, time.Time{}, err
		}
		r, ok := p.ODs[t.odChannel]
		if !ok {
			return 0, time.Time{}, fmt.Errorf("no channel %s", t.odChannel)
		}
		return r.OD, p.Timestamp.Time(), nil
	default:
		var raw map[string]json.RawMessage
		var x float64
		var ts contract.Timestamp
		if err := json.Unmarshal(payload, &raw); err != nil {
			return 0, time.Time{}, err
		}
		if err := json.Unmarshal(raw[attr], &x); err != nil {
			return 0, time.Time{}, fmt.Errorf("%s: %w", attr, err)
		}
		if err := json.Unmarshal(raw["timestamp"], &ts); err != nil {
			return 0, time.Time{}, fmt.Errorf("timestamp: %w", err)
		}
		return x, ts.Time(), nil
	}
}

// latest is the reading that triggered the run, if it is of the selected signal and fresh;
// else the base's latest value, with its checks of running producers and staleness.
func (t *turbidostat) latest(ctx context.Context) (float64, error) {
	a := t.a
	sig := t.currentSignal()
	t.mu.Lock()
	s := t.sample
	t.mu.Unlock()
	if s.signal == sig && a.rt.Clock().Now().Sub(s.at) <= staleAfter {
		return s.value, nil
	}
	switch sig {
	case signalOD:
		ods, err := a.latestODs(ctx)
		if err != nil {
			return 0, err
		}
		v, ok := ods[t.odChannel]
		if !ok {
			return 0, fmt.Errorf("%w: no OD of channel %s in od_reading/ods", ErrRequiredData, t.odChannel)
		}
		return v, nil
	case signalFused:
		return a.latestODFused(ctx)
	default:
		return a.latestNormalizedOD(ctx)
	}
}

func (t *turbidostat) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	if t.settling() {
		return nil, nil
	}
	x, err := t.latest(ctx)
	if err != nil {
		return nil, err
	}
	if x < t.target {
		return nil, nil
	}
	v := t.exchange
	moved, err := t.a.executeIO(ctx, v, inflow{contract.AddMedia, v})
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.settleUntil = t.a.rt.Clock().Now().Add(settleWindow)
	t.mu.Unlock()
	sig := t.currentSignal()
	msg := fmt.Sprintf("Latest biomass (%s) = %s ≥ Target biomass = %s; cycled %s mL", sig, contract.FormatFloat(roundTo(x, 4)),
		contract.FormatFloat(t.target), round3(moved.ml(contract.AddMedia)))
	return contract.NewAutomationEvent(contract.DilutionEvent, msg, map[string]any{
		"latest_biomass": contract.Decimal(x), "target_biomass": contract.Decimal(t.target),
		"resolved_biomass_signal": sig, "exchange_volume_ml": contract.Decimal(v),
		"volume_actually_moved_ml": contract.Decimal(moved.ml(contract.AddMedia)),
	}), nil
}
