package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// OD dodging (docs/jobs.md "stirring"): while od_reading runs and enable_dodging_od is on,
// stirring steps down to target_rpm_during_od_reading before each OD reading and back up to
// target_rpm_outside_od_reading after it, so the photodiodes never read a spinning bar.
// The timing is the reference's (docs/algorithms.md, "Stirring: calibration lookup and OD dodging timing"): a timer with the OD interval fires 1 s
// (the reading) plus post_delay after each reading; it speeds up, waits, and steps down
// pre_delay before the next reading.

const (
	odReadingDuration = time.Second            // how long an OD reading is assumed to take
	dodgeSettle       = 150 * time.Millisecond // after a new target, before polling
	// odSettingsWait is how long entering dodging waits for od_reading's interval and
	// first_od_obs_time.
	odSettingsWait = 5 * time.Second
)

// dodging is stirring's dodging state. The fields above mu belong to the job's goroutine.
type dodging struct {
	enabled         bool    // enable_dodging_od
	active          bool    // currently_dodging_od
	preS, postS     float64 // s, as configured
	pre, post       time.Duration
	during, outside float64 // RPM targets around a reading
	timer           *repeat // nil in continuous mode

	mu         sync.Mutex // guards what od_reading publishes, delivered on MQTT goroutines
	odState    supervisor.State
	odInterval float64 // s
	odFirst    float64 // unix s of od_reading's first observation
	changed    chan struct{}
}

// loadDodging reads the dodging options and config (after the target is known).
func (s *Stirring) loadDodging(o supervisor.Options, r *collect) {
	d := &s.dodge
	d.changed = make(chan struct{}, 1)
	d.enabled = r.bool(o.Bool("enable_dodging_od", r.bool(o.Config.Bool(stirringSection, "enable_dodging_od", false))))
	d.preS = r.float(o.Config.Float(stirringSection, "pre_delay_duration", 1.5))
	d.postS = r.float(o.Config.Float(stirringSection, "post_delay_duration", 0.5))
	d.during = r.float(o.Float("target_rpm_during_od_reading", r.float(o.Config.Float(stirringSection, "target_rpm_during_od_reading", 0))))
	d.outside = r.float(o.Float("target_rpm_outside_od_reading", r.float(o.Config.Float(stirringSection, "target_rpm_outside_od_reading", s.target))))
}

// check refuses delays and targets the job cannot use, and converts the delays.
func (d *dodging) check() error {
	for _, c := range []struct {
		name  string
		v, hi float64
	}{{"pre_delay_duration", d.preS, 3600}, {"post_delay_duration", d.postS, 3600},
		{"target_rpm_during_od_reading", d.during, math.MaxFloat64}, {"target_rpm_outside_od_reading", d.outside, math.MaxFloat64}} {
		if !(c.v >= 0 && c.v <= c.hi) {
			return fmt.Errorf("%s %v must be a number within [0, %v]", c.name, c.v, c.hi)
		}
	}
	d.pre, d.post = seconds(d.preS), seconds(d.postS)
	d.during, d.outside = math.Min(d.during, 5000), math.Min(d.outside, 5000)
	return nil
}

// dodgingSettings are the settings dodging adds to stirring.
func (s *Stirring) dodgingSettings() []supervisor.Setting {
	return []supervisor.Setting{
		{Name: "enable_dodging_od", Datatype: contract.Boolean, Settable: true, OnSet: s.onEnableDodging},
		{Name: "currently_dodging_od", Datatype: contract.Boolean},
		{Name: "target_rpm_during_od_reading", Datatype: contract.Float, Unit: "RPM", Settable: true, OnSet: s.onDodgeTarget(&s.dodge.during, "target_rpm_during_od_reading")},
		{Name: "target_rpm_outside_od_reading", Datatype: contract.Float, Unit: "RPM", Settable: true, OnSet: s.onDodgeTarget(&s.dodge.outside, "target_rpm_outside_od_reading")},
	}
}

// watchODReading follows od_reading's state, interval and first observation time.
func (s *Stirring) watchODReading(ctx context.Context) error {
	unit, exp := s.rt.Unit(), s.rt.Experiment()
	d := &s.dodge
	float := func(dst *float64) pubsub.Handler {
		return func(m pubsub.Message) {
			v, err := strconv.ParseFloat(string(m.Payload), 64)
			if err != nil {
				_ = json.Unmarshal(m.Payload, &v)
			}
			d.mu.Lock()
			*dst = v
			d.mu.Unlock()
		}
	}
	subs := map[string]pubsub.Handler{
		contract.JobTopic(unit, exp, jobODReading, contract.StateAttr): func(m pubsub.Message) {
			d.mu.Lock()
			d.odState = supervisor.State(m.Payload)
			d.mu.Unlock()
			select {
			case d.changed <- struct{}{}:
			default:
			}
		},
		contract.JobTopic(unit, exp, jobODReading, "interval"):          float(&d.odInterval),
		contract.JobTopic(unit, exp, jobODReading, "first_od_obs_time"): float(&d.odFirst),
	}
	for topic, h := range subs {
		if err := s.rt.Subscribe(ctx, topic, pubsub.AtLeastOnce, h); err != nil {
			return fmt.Errorf("subscribe to %s: %w", topic, err)
		}
	}
	return nil
}

// odRunning: od_reading is in init, ready or sleeping.
func (d *dodging) odRunning() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.odState {
	case supervisor.Init, supervisor.Ready, supervisor.Sleeping:
		return true
	}
	return false
}

// odTiming is od_reading's interval and first observation, once both are known.
func (d *dodging) odTiming() (interval time.Duration, first time.Time, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.odInterval <= 0 || d.odFirst <= 0 {
		return 0, time.Time{}, false
	}
	sec, frac := math.Modf(d.odFirst)
	return seconds(d.odInterval), time.Unix(int64(sec), int64(frac*1e9)), true
}

// evaluateDodging enters the mode the job should be in: dodging iff enabled and od_reading
// running; only while ready (a sleeping job enters it when it wakes).
func (s *Stirring) evaluateDodging(ctx context.Context) error {
	d := &s.dodge
	if s.rt.State() != supervisor.Ready {
		return nil
	}
	want := d.enabled && d.odRunning()
	if want == d.active {
		return nil
	}
	if want {
		return s.enterDodging(ctx)
	}
	return s.enterContinuous(ctx)
}

// enterDodging stops stirring, publishes the two targets and arms the dodging timer.
func (s *Stirring) enterDodging(ctx context.Context) error {
	d := &s.dodge
	var interval time.Duration
	var first time.Time
	for deadline := s.rt.Clock().Now().Add(odSettingsWait); ; {
		var ok bool
		if interval, first, ok = d.odTiming(); ok {
			break
		}
		if !s.rt.Clock().Now().Before(deadline) {
			s.rt.Log().Error("OD dodging: od_reading's interval and first_od_obs_time are not known; stirring continuously")
			return nil
		}
		if err := s.rt.Clock().Sleep(ctx, 100*time.Millisecond); err != nil {
			return nil
		}
	}
	if interval-odReadingDuration <= d.pre+d.post {
		return fmt.Errorf("%w: OD interval %v leaves no time to dodge (pre_delay_duration %v + post_delay_duration %v + 1 s reading)",
			ErrDodgingTiming, interval, d.pre, d.post)
	}
	if interval.Seconds() < 1/0.12 {
		s.rt.Log().Warn("OD dodging works best with an OD interval of at least 8.33 s (samples_per_second ≤ 0.12)", "interval", interval)
	}
	if s.cal == nil && s.useRPM {
		s.rt.Log().Warn("OD dodging is enabled without a stirring calibration: stirring may not restart between readings. Perform a stirring calibration first.")
	}
	d.active = true
	if err := s.setDC(ctx, 0); err != nil {
		return err
	}
	if s.useRPM {
		if err := s.rt.Set(ctx, "measured_rpm", contract.MeasuredRPM{Timestamp: contract.Timestamp(s.rt.Clock().Now())}); err != nil {
			return err
		}
	}
	for _, kv := range []struct {
		name string
		v    any
	}{{"currently_dodging_od", true}, {"target_rpm_during_od_reading", d.during}, {"target_rpm_outside_od_reading", d.outside}} {
		if err := s.rt.Set(ctx, kv.name, kv.v); err != nil {
			return err
		}
	}
	now := s.rt.Clock().Now()
	d.timer = newRepeat(ctx, s.rt.Clock(), timeToNextOD(interval, first, now)+d.post+odReadingDuration, interval)
	return nil
}

// enterContinuous stops the dodging timer, clears the two targets and stirs again.
func (s *Stirring) enterContinuous(ctx context.Context) error {
	d := &s.dodge
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.active = false
	for _, kv := range []struct {
		name string
		v    any
	}{{"currently_dodging_od", false}, {"target_rpm_during_od_reading", nil}, {"target_rpm_outside_od_reading", nil}} {
		if err := s.rt.Set(ctx, kv.name, kv.v); err != nil {
			return err
		}
	}
	if s.useRPM && s.target != d.outside && d.outside > 0 {
		s.setTargetRPM(ctx, d.outside)
	}
	if s.dc == 0 {
		return s.start(ctx)
	}
	return nil
}

// dodgeTick is one OD cycle: speed up after the reading, wait, slow down before the next.
func (s *Stirring) dodgeTick(ctx context.Context) error {
	d := &s.dodge
	interval, first, ok := d.odTiming()
	if !ok || !d.active || !d.odRunning() || s.rt.State() != supervisor.Ready {
		return nil
	}
	began := s.rt.Clock().Now()
	if err := s.aroundOD(ctx, d.outside, 2); err != nil {
		return err
	}
	after := s.rt.Clock().Now().Sub(began)
	wait, err := dodgeWait(interval, first, s.rt.Clock().Now(), d.pre, d.post, after)
	if err != nil {
		return err
	}
	if err := s.rt.Clock().Sleep(ctx, wait); err != nil {
		return nil
	}
	if !d.active || !d.odRunning() || s.rt.State() != supervisor.Ready {
		return nil
	}
	return s.aroundOD(ctx, d.during, 1)
}

// aroundOD sets a dodging target, lets it settle and polls the RPM loop n times.
func (s *Stirring) aroundOD(ctx context.Context, rpm float64, polls int) error {
	if !s.useRPM {
		return nil
	}
	s.setTargetRPM(ctx, rpm)
	if err := s.rt.Clock().Sleep(ctx, dodgeSettle); err != nil {
		return nil
	}
	for range polls {
		if err := s.pollAndUpdate(ctx); err != nil {
			return err
		}
	}
	return nil
}

// timeToNextOD is I − ((now − t0) mod I): a full interval on an exact boundary.
func timeToNextOD(interval time.Duration, first, now time.Time) time.Duration {
	return interval - ((now.Sub(first)%interval)+interval)%interval
}

// dodgeWait is how long to wait after the after-reading action before the before-reading
// one (docs/algorithms.md, "Stirring: calibration lookup and OD dodging timing"): min(W, max(0, next − pre)), W = I − 1 s − (pre + post) − after.
func dodgeWait(interval time.Duration, first, now time.Time, pre, post, after time.Duration) (time.Duration, error) {
	budget := interval - odReadingDuration - (pre + post) - after
	if budget <= 0 {
		return 0, fmt.Errorf("%w: the OD interval %v is too short for pre_delay_duration %v, post_delay_duration %v and %v of stirring updates",
			ErrDodgingTiming, interval, pre, post, after.Round(time.Millisecond))
	}
	return min(budget, max(0, timeToNextOD(interval, first, now)-pre)), nil
}

func (s *Stirring) onEnableDodging(v any) error {
	ctx := context.Background()
	s.dodge.enabled = v.(bool)
	if err := s.rt.Set(ctx, "enable_dodging_od", s.dodge.enabled); err != nil {
		return err
	}
	return s.evaluateDodging(ctx)
}

func (s *Stirring) onDodgeTarget(dst *float64, name string) func(any) error {
	return func(v any) error {
		rpm := v.(float64)
		if rpm < 0 || math.IsNaN(rpm) || math.IsInf(rpm, 0) {
			return fmt.Errorf("%s %v must be 0 or more", name, rpm)
		}
		*dst = math.Min(rpm, 5000)
		if !s.dodge.active {
			return nil // published only while dodging; used from the next dodge
		}
		return s.rt.Set(context.Background(), name, *dst)
	}
}
