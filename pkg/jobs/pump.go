package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// pumpKind is one of the three pumps: its action name (also the dosing event), calibration
// device, [PWM] role and words for the logs.
type pumpKind struct {
	action, device, role string
	verb, liquid, title  string
	inflow               bool // adds liquid
}

var (
	mediaPump    = pumpKind{action: contract.AddMedia, device: calibration.MediaPump, role: "media", verb: "Adding", liquid: "media", title: "Media", inflow: true}
	altMediaPump = pumpKind{action: contract.AddAltMedia, device: calibration.AltMediaPump, role: "alt_media", verb: "Adding", liquid: "alt-media", title: "Alt-media", inflow: true}
	wastePump    = pumpKind{action: contract.RemoveWaste, device: calibration.WastePump, role: "waste", verb: "Removing", liquid: "waste", title: "Waste"}
)

// chunk is the period of the dosing events of a running pump (docs/jobs.md, "Pump actions").
const chunk = 500 * time.Millisecond

// activeCalibration is the pump's active calibration; ok is false when it has none.
func (d *Dosing) activeCalibration(k pumpKind) (calibration.Calibration, bool, error) {
	if d == nil || d.Calibrations == nil {
		return calibration.Calibration{}, false, nil
	}
	c, ok, err := d.Calibrations.Active(k.device)
	if err == nil && ok && c.Type != calibration.TypePump {
		err = fmt.Errorf("active calibration %s of %s is a %s, not a pump calibration", c.Name, k.device, c.Type)
	}
	return c, ok && err == nil, err
}

// noCalibration is the refusal of a volume dose with an uncalibrated pump.
func noCalibration(k pumpKind) error {
	return fmt.Errorf("%w: %s pump calibration must be performed first (no active calibration for %s; run `pio calibrations run --device %s`)",
		ErrNoCalibration, k.title, k.device, k.device)
}

// pumpRun is one pump at work: a claimed PWM output driven at the calibration's duty cycle,
// publishing a DosingEvent for each half second ahead of the pumping. wait is how the run
// lets time pass: the clock's Sleep for an action, the automation's wait (which applies
// commands meanwhile) for an automation. A wait that fails (its ctx ended) stops the run.
type pumpRun struct {
	rt     *supervisor.Runtime
	kind   pumpKind
	cal    calibration.Calibration
	pwm    hal.PWM
	source string
	wait   func(ctx context.Context, d time.Duration) error
	events *eventSink
}

// finite runs the pump for seconds, which move ml (docs/jobs.md, "Pump actions"). When ctx ends first
// the pump stops, a correction event brings the events' sum to what was moved, and that
// volume is returned. ml = 0 never switches the pump on.
func (p *pumpRun) finite(ctx context.Context, seconds, ml float64) (float64, error) {
	if !(seconds > 0) || !(ml > 0) {
		return 0, nil
	}
	// The callers check too; this is the last word before the pump switches on.
	run, err := pumpRunSeconds(seconds)
	if err == nil {
		err = checkVolume(p.kind.action, ml)
	}
	if err != nil {
		return 0, fmt.Errorf("%s refused: %w", p.kind.device, err)
	}
	clk := p.rt.Clock()
	if err := p.pwm.SetDutyCycle(p.cal.DC); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.kind.device, err)
	}
	t0 := clk.Now()
	deadline := t0.Add(run)
	timed := p.offAfter(run)
	var emitted float64
	for {
		left := deadline.Sub(clk.Now())
		if left <= 0 {
			break
		}
		c := ml - emitted
		if left >= chunk {
			c = p.cal.ML(chunk.Seconds())
		}
		p.events.emit(p.kind.action, c, p.source)
		emitted += c
		if err := p.wait(ctx, min(chunk, left)); err != nil {
			elapsed := clk.Now().Sub(t0)
			offErr := p.off()
			if timed {
				elapsed = min(elapsed, run) // the board's timer stopped it at the deadline
			}
			actual := math.Max(0, p.cal.ML(elapsed.Seconds()))
			p.events.emit(p.kind.action, actual-emitted, p.source)
			p.rt.Log().Info(fmt.Sprintf("Stopped %s early.", p.kind.device))
			return actual, offErr
		}
	}
	offErr := p.off()
	if rest := ml - emitted; rest > 1e-12 {
		p.events.emit(p.kind.action, rest, p.source)
	}
	// Without a board timer, a late wake-up (a loaded machine) switched the pump off after
	// its deadline: what it moved meanwhile is published too, so the bookkeeping follows
	// the liquid.
	if over := clk.Now().Sub(deadline); !timed && over >= pumpOverrunReported {
		extra := p.cal.ML(over.Seconds()) - p.cal.ML(0)
		p.events.emit(p.kind.action, extra, p.source)
		return ml + extra, offErr
	}
	return ml, offErr
}

// pumpOverrunReported is the shortest overrun past a pump's deadline that is published.
const pumpOverrunReported = time.Millisecond

// continuous runs the pump until ctx ends or full reports the vessel full (nil: never),
// emitting forward(0.5 s) every half second and a final correction.
func (p *pumpRun) continuous(ctx context.Context, full func() bool) (float64, error) {
	clk := p.rt.Clock()
	if err := p.pwm.SetDutyCycle(p.cal.DC); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.kind.device, err)
	}
	t0 := clk.Now()
	var emitted float64
	for full == nil || !full() {
		c := p.cal.ML(chunk.Seconds())
		p.events.emit(p.kind.action, c, p.source)
		emitted += c
		if p.wait(ctx, chunk) != nil {
			break
		}
	}
	elapsed := clk.Now().Sub(t0).Seconds()
	offErr := p.off()
	actual := math.Max(0, p.cal.ML(elapsed))
	p.events.emit(p.kind.action, actual-emitted, p.source)
	p.rt.Log().Info(fmt.Sprintf("Stopped %s.", p.kind.device))
	return actual, offErr
}

// offAfter asks the board's timer, if it has one, to switch the pump off run after it was
// switched on, so that the run moves run's worth of liquid however late this goroutine
// wakes (a simulated clock at high speed wakes it seconds late). It reports whether the
// timer took the stop; otherwise the run's own wake-up stops the pump, as on a real board.
func (p *pumpRun) offAfter(run time.Duration) bool {
	out, ok := p.pwm.(*pumpOutput)
	if !ok || out.timer == nil {
		return false
	}
	if err := out.timer.OffAfter(out.channel, run); err != nil {
		p.rt.Log().Warn(fmt.Sprintf("%s: the board's timer refused the stop; the run stops the pump itself", p.kind.device), "err", err)
		return false
	}
	return true
}

func (p *pumpRun) off() error {
	if err := p.pwm.SetDutyCycle(0); err != nil {
		return fmt.Errorf("could not switch %s off: %w", p.kind.device, err)
	}
	return nil
}

// eventSink publishes dosing events in order on its own goroutine, so a slow broker never
// delays switching a pump off. close waits until every event is out.
type eventSink struct {
	rt    *supervisor.Runtime
	topic string
	ch    chan contract.DosingEvent
	done  chan struct{}
}

func newEventSink(rt *supervisor.Runtime) *eventSink {
	s := &eventSink{rt: rt, topic: contract.DosingEventsTopic(rt.Unit(), rt.Experiment()),
		ch: make(chan contract.DosingEvent, 64), done: make(chan struct{})}
	rt.Go(s.loop)
	return s
}

func (s *eventSink) loop() {
	defer close(s.done)
	for ev := range s.ch {
		// Publish waits at most 5 s for the broker and never on the job's context: an event
		// of a stopped dose still goes out.
		if err := s.rt.Publish(context.Background(), s.topic, contract.Marshal(ev), pubsub.ExactlyOnce, false); err != nil {
			s.rt.Log().Error("could not publish dosing event", "event", ev.Event, "volume_change", float64(ev.VolumeChange), "err", err)
		}
	}
}

func (s *eventSink) emit(event string, ml float64, source string) {
	src := source
	s.ch <- contract.DosingEvent{VolumeChange: contract.Decimal(ml), Event: event, SourceOfEvent: &src,
		Timestamp: contract.Timestamp(s.rt.Clock().Now())}
}

func (s *eventSink) close() {
	close(s.ch)
	<-s.done
}

// claimPump claims the pump's PWM channel; a channel held by another job is ErrPumpInUse.
func claimPump(rt *supervisor.Runtime, k pumpKind, channel string) (hal.PWM, error) {
	pwm, err := rt.PWM(channel)
	if errors.Is(err, supervisor.ErrPWMInUse) {
		return nil, fmt.Errorf("%w (%s, PWM channel %s): is another pump action running? %w", ErrPumpInUse, k.device, channel, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.device, err)
	}
	return &pumpOutput{PWM: pwm, channel: channel, timer: rt.Board().PWMTimer}, nil
}

// pumpOutput is a claimed pump output with the board's timer (nil on a real board), which a
// finite run asks to switch the pump off at its exact end.
type pumpOutput struct {
	hal.PWM
	channel string
	timer   hal.PWMTimer
}

// round3 is the rounding of the dosing logs (volumes to 3 decimals, durations to 2).
func round3(x float64) string { return contract.FormatFloat(roundTo(x, 3)) }
func round2(x float64) string { return contract.FormatFloat(roundTo(x, 2)) }
