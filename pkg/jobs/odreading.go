package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// ODReading takes an IR scatter snapshot every interval, normalises it by the reference
// photodiode and publishes `ods` and `od<channel>` (spec/jobs.md §2). Calibrations, blanks,
// fusion, automatic IR intensity and the over-voltage guard come with issue "every job".
type ODReading struct {
	interval    time.Duration
	irIntensity float64
	irChannel   string
	angles      map[string]string // signal channel -> angle
	refChannel  string            // "" when there is no REF photodiode
	settle      time.Duration
	useDark     bool
	ref         refTracker

	rt     *supervisor.Runtime
	pds    hal.Photodiodes
	leds   hal.LEDs
	dark   map[string]float64
	first  bool
	timer  *repeat
	random *rand.Rand
}

// ODReadingSpec is the job table entry.
var ODReadingSpec = supervisor.Spec{Name: "od_reading", New: newODReading}

const odSection = "od_reading.config"

func newODReading(o supervisor.Options) (supervisor.Job, error) {
	var r collect
	sps := r.float(o.Config.Float(odSection, "samples_per_second", 0.2))
	emaWeight := r.float(o.Config.Float(odSection, "pd_reference_ema", 0.75))
	settle := r.float(o.Config.Float(odSection, "duration_between_led_off_and_od_reading", 0.125))
	useDark := r.bool(o.Config.Bool(odSection, "use_dark_offsets", true))
	if err := r.err(); err != nil {
		return nil, err
	}
	if !(sps > 0) {
		return nil, fmt.Errorf("[%s] samples_per_second must be greater than 0", odSection)
	}
	interval := r.float(o.Float("interval", 1/sps))
	ir, err := irIntensity(o)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	if !(interval > 0) {
		return nil, fmt.Errorf("interval %v must be greater than 0", interval)
	}
	irChannel, ok := o.Config.LEDChannelFor("IR")
	if !ok {
		return nil, errors.New("`leds` section must contain `IR` value")
	}
	channels, err := o.Config.PhotodiodeChannels()
	if err != nil {
		return nil, err
	}
	j := &ODReading{interval: seconds(interval), irIntensity: ir, irChannel: irChannel,
		angles: map[string]string{}, settle: seconds(settle), useDark: useDark, first: true}
	for ch, angle := range channels {
		if angle == "REF" {
			j.refChannel = ch
		} else {
			j.angles[ch] = angle
		}
	}
	mode := o.Config.String(odSection, "ref_normalization", "classic")
	if mode != "classic" && mode != "unity" {
		return nil, fmt.Errorf("[%s] ref_normalization %q must be classic or unity", odSection, mode)
	}
	j.ref = newRefTracker(mode, emaWeight, interval, j.refChannel != "")
	return j, nil
}

func irIntensity(o supervisor.Options) (float64, error) {
	raw := o.String("ir_led_intensity", o.Config.String(odSection, "ir_led_intensity", "80"))
	if raw == "auto" {
		return 85, nil // the tuning of algorithms.md §5.5 is not implemented yet; 85 is its starting point
	}
	v, err := supervisor.Options{Values: map[string]any{"ir_led_intensity": raw}}.Float("ir_led_intensity", 80)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("ir_led_intensity %v must be within 0–100", v)
	}
	return v, nil
}

// Run implements supervisor.Job.
func (j *ODReading) Run(ctx context.Context, rt *supervisor.Runtime) error {
	j.rt = rt
	b := rt.Board()
	if b.Photodiodes == nil || b.LEDs == nil {
		return fmt.Errorf("OD reading needs the photodiode ADC and the LED driver: %w", hal.ErrNotPresent)
	}
	j.pds, j.leds = b.Photodiodes, b.LEDs
	j.random = rand.New(rand.NewPCG(uint64(rt.JobID()), uint64(rt.Clock().Now().UnixNano())))
	settings := []supervisor.Setting{
		{Name: "first_od_obs_time", Datatype: contract.Float},
		{Name: "ir_led_intensity", Datatype: contract.Float, Unit: "%", Settable: true, OnSet: j.onIntensity},
		{Name: "interval", Datatype: contract.Float, Unit: "s", Settable: true, OnSet: j.onInterval},
		{Name: "relative_intensity_of_ir_led", Datatype: contract.JSON},
		{Name: "ods", Datatype: contract.TypeODReadings},
	}
	for _, ch := range sortedKeys(j.angles) {
		settings = append(settings, supervisor.Setting{Name: "od" + ch, Datatype: contract.TypeODReading})
	}
	if err := rt.Declare(settings...); err != nil {
		return err
	}
	defer j.irOff()
	if err := rt.Set(ctx, "ir_led_intensity", j.irIntensity); err != nil {
		return err
	}
	if err := rt.Set(ctx, "interval", j.interval.Seconds()); err != nil {
		return err
	}
	if err := j.readDark(ctx); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	j.timer = newRepeat(ctx, rt.Clock(), 0, j.interval)
	defer func() { j.timer.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-j.timer.C:
			if rt.State() != supervisor.Ready {
				continue
			}
			if err := j.record(ctx); err != nil && ctx.Err() == nil {
				rt.Log().Error("OD reading failed", "err", err)
			}
		}
	}
}

// readDark measures the photodiodes with the IR LED off: the offsets later subtracted.
func (j *ODReading) readDark(ctx context.Context) error {
	j.dark = map[string]float64{}
	if err := j.leds.SetIntensity(j.irChannel, 0); err != nil {
		return fmt.Errorf("switch IR LED off: %w", err)
	}
	volts, err := j.pds.ReadVolts(ctx)
	if err != nil {
		return fmt.Errorf("dark reading: %w", err)
	}
	if j.useDark {
		j.dark = volts
	}
	return nil
}

// record takes one reading with the IR LED on and publishes it.
func (j *ODReading) record(ctx context.Context) error {
	now := j.rt.Clock().Now()
	if j.first {
		j.first = false
		if err := j.rt.Set(ctx, "first_od_obs_time", float64(now.UnixNano())/1e9); err != nil {
			return err
		}
	}
	if err := j.leds.SetIntensity(j.irChannel, j.irIntensity); err != nil {
		return fmt.Errorf("switch IR LED on: %w", err)
	}
	if err := j.rt.Clock().Sleep(ctx, j.settle); err != nil {
		return err
	}
	volts, err := j.pds.ReadVolts(ctx)
	j.irOff()
	if err != nil {
		return fmt.Errorf("detected i2c error - is everything well connected? %w", err)
	}
	for ch, v := range volts {
		volts[ch] = math.Max(0, v-j.dark[ch])
	}
	ref := 1.0
	if j.refChannel != "" {
		var noisy bool
		if ref, noisy = j.ref.update(volts[j.refChannel]); noisy {
			j.rt.Log().Warn(noisyRefWarning)
			j.pauseDosing(ctx)
		}
		if ref <= 0 {
			return errors.New("IR reference is 0.0: is it connected correctly, is the IR LED working?")
		}
	}
	stamp := contract.Timestamp(j.rt.Clock().Now())
	ods := contract.ODReadings{Timestamp: stamp, ODs: map[string]any{}}
	readings := map[string]contract.RawODReading{}
	for ch, angle := range j.angles {
		r := contract.RawODReading{Timestamp: stamp, Angle: angle, OD: contract.Decimal(volts[ch] / ref),
			Channel: ch, IRLEDIntensity: contract.Decimal(j.irIntensity)}
		readings[ch] = r
		ods.ODs[ch] = r
	}
	if err := j.rt.Set(ctx, "ods", ods); err != nil {
		return err
	}
	for _, ch := range sortedKeys(j.angles) {
		if err := j.rt.Set(ctx, "od"+ch, readings[ch]); err != nil {
			return err
		}
	}
	if j.random.Float64() < 0.2 {
		rel := contract.RelativeIntensity{RelativeIntensityOfIRLED: contract.Decimal(ref), Timestamp: stamp}
		return j.rt.Set(ctx, "relative_intensity_of_ir_led", rel)
	}
	return nil
}

// pauseDosing asks the dosing automation to sleep while the reference is unreliable.
func (j *ODReading) pauseDosing(ctx context.Context) {
	topic := contract.SetTopic(j.rt.Unit(), j.rt.Experiment(), "dosing_automation", contract.StateAttr)
	if err := j.rt.Publish(ctx, topic, []byte(supervisor.Sleeping), pubsub.AtLeastOnce, false); err != nil {
		j.rt.Log().Debug("pause dosing", "err", err)
	}
}

func (j *ODReading) irOff() {
	if err := j.leds.SetIntensity(j.irChannel, 0); err != nil {
		j.rt.Log().Error("could not switch the IR LED off", "err", err)
	}
}

func (j *ODReading) onIntensity(v any) error {
	ir := v.(float64)
	if ir < 0 || ir > 100 {
		return fmt.Errorf("ir_led_intensity %v must be within 0–100", ir)
	}
	j.irIntensity = ir
	return j.rt.Set(context.Background(), "ir_led_intensity", ir)
}

func (j *ODReading) onInterval(v any) error {
	s := v.(float64)
	if !(s > 0) {
		return fmt.Errorf("interval %v must be greater than 0", s)
	}
	if s <= 1 {
		j.rt.Log().Warn("Recommended to keep the interval above 1 second.")
	}
	j.interval = seconds(s)
	j.ref.setInterval(s)
	j.timer.Stop()
	j.timer = newRepeat(context.Background(), j.rt.Clock(), 0, j.interval)
	return j.rt.Set(context.Background(), "interval", s)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
