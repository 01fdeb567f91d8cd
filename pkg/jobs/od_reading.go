package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// ODReading takes an IR scatter snapshot every interval, normalises it by the reference
// photodiode, subtracts the experiment's blank or applies the active OD calibrations, and
// publishes `ods` and `od<channel>` (docs/jobs.md, "od_reading"). Multi-angle fusion (`od_fused`) is
// not implemented.
type ODReading struct {
	interval  time.Duration
	intensity float64
	auto      bool // ir_led_intensity = auto: tuned at start
	chain     *odChain
	cache     unitCache
	blank     map[string]float64 // per channel, subtracted from the raw OD; nil without a blank
	cals      odCalibrations
	warns     []string // for the job's log once it runs
	storedV0  float64  // unity REF v0 as cached for the experiment
	fused     fusedOD  // the active od_fused estimator, if any (od_fused.go)

	rt     *supervisor.Runtime
	ctx    context.Context // Run's: a timer restarted by /set interval ends with it
	first  bool
	timer  *repeat
	random *rand.Rand
}

// ODDeps is what the OD jobs keep outside the process: the unit's persistent cache directory
// (blank, REF v0, self-test results) and its calibration store. A zero field disables it.
// Simulated tells self_test the board is hal/sim, so checks of physics the simulation does
// not model are skipped rather than passed.
type ODDeps struct {
	CacheDir     string
	Calibrations *calibration.Store
	Simulated    bool
	// Estimators is the unit's estimator folder (<device>/<name>.yaml and the active
	// pointers); "" has none.
	Estimators string
}

// odReadingJobName is the job's name on the wire.
const odReadingJobName = "od_reading"

// NewODReadingSpec is the job table entry on a unit's cache and calibrations.
func NewODReadingSpec(d ODDeps) supervisor.Spec {
	return supervisor.Spec{Name: odReadingJobName, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newODReading(o, d)
	}}
}

const odSection = "od_reading.config"

func newODReading(o supervisor.Options, d ODDeps) (*ODReading, error) {
	var r collect
	sps := r.float(o.Config.Float(odSection, "samples_per_second", defaultSamplesPerSecond))
	chain, emaWeight, err := odChainConfig(o.Config)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	if _, err := odIntervalOfRate(sps); err != nil {
		return nil, err
	}
	interval := r.float(o.Float("interval", 1/sps))
	ir, auto, err := irIntensity(o)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	period, err := odInterval(interval)
	if err != nil {
		return nil, err
	}
	mode := o.Config.String(odSection, "ref_normalization", "classic")
	if mode != "classic" && mode != "unity" {
		return nil, fmt.Errorf("[%s] ref_normalization %q must be classic or unity", odSection, mode)
	}
	chain.ref = newRefTracker(mode, emaWeight, interval, chain.refChannel != "")
	j := &ODReading{interval: period, intensity: ir, auto: auto, chain: chain,
		cache: unitCache{dir: d.CacheDir}, first: true}

	if _, err := j.cache.get(cacheODBlank, o.Experiment, &j.blank); err != nil {
		return nil, fmt.Errorf("read the OD blank of %s: %w", o.Experiment, err)
	}
	if j.cals, j.warns, err = loadODCalibrations(d.Calibrations, chain.angles); err != nil {
		return nil, err
	}
	if j.fused.est, err = loadActiveFusedEstimator(d.Estimators); err != nil {
		return nil, err
	}
	if j.blank != nil && (j.cals.active() || j.fused.est != nil) {
		return nil, fmt.Errorf("experiment %s has an OD blank and OD calibrations are active: a blank cannot be combined with a calibration; delete the blank (od_blank delete) or deactivate the calibrations", o.Experiment)
	}
	if mode == "unity" {
		if _, err := j.cache.get(cacheIRReference, o.Experiment, &j.storedV0); err != nil {
			// The first reading becomes v0 again and replaces the unreadable entry.
			j.warns = append(j.warns, fmt.Sprintf("ignoring the stored IR reference: %v", err))
			j.storedV0 = 0
		}
		chain.ref.seed(j.storedV0)
	}
	return j, nil
}

// irIntensity reads ir_led_intensity: a percentage, or auto (tuned at start).
func irIntensity(o supervisor.Options) (v float64, auto bool, err error) {
	raw := o.String("ir_led_intensity", o.Config.String(odSection, "ir_led_intensity", "80"))
	if raw == "auto" {
		return 85, true, nil
	}
	v, err = supervisor.Options{Values: map[string]any{"ir_led_intensity": raw}}.Float("ir_led_intensity", 80)
	if err != nil {
		return 0, false, err
	}
	if !(v >= 0 && v <= 100) {
		return 0, false, fmt.Errorf("ir_led_intensity %v must be within 0–100", v)
	}
	return v, false, nil
}

// Run implements supervisor.Job.
func (j *ODReading) Run(ctx context.Context, rt *supervisor.Runtime) error {
	j.rt, j.ctx = rt, ctx
	if err := j.chain.attach(rt); err != nil {
		return err
	}
	j.random = rand.New(rand.NewPCG(uint64(rt.JobID()), uint64(rt.Clock().Now().UnixNano())))
	for _, w := range j.warns {
		rt.Log().Warn(w)
	}
	settings := []supervisor.Setting{
		{Name: "first_od_obs_time", Datatype: contract.Float},
		{Name: "ir_led_intensity", Datatype: contract.Float, Unit: "%", Settable: true, OnSet: j.onIntensity},
		{Name: "interval", Datatype: contract.Float, Unit: "s", Settable: true, OnSet: j.onInterval},
		{Name: "relative_intensity_of_ir_led", Datatype: contract.JSON},
		{Name: "ods", Datatype: contract.TypeODReadings},
	}
	for _, ch := range sortedKeys(j.chain.angles) {
		settings = append(settings, supervisor.Setting{Name: "od" + ch, Datatype: contract.TypeODReading})
		if _, ok := j.cals.byChannel[ch]; ok {
			settings = append(settings,
				supervisor.Setting{Name: "raw_od" + ch, Datatype: contract.TypeRawODReading},
				supervisor.Setting{Name: "calibrated_od" + ch, Datatype: contract.TypeCalibratedOD})
		}
	}
	if j.fused.est != nil {
		settings = append(settings, supervisor.Setting{Name: "od_fused", Datatype: contract.TypeODFused})
	}
	if err := rt.Declare(settings...); err != nil {
		return err
	}
	defer j.irOff()
	if err := j.chain.readDark(ctx); err != nil {
		return err
	}
	if j.auto {
		volts, err := j.chain.snapshot(ctx, j.intensity)
		if err != nil {
			return fmt.Errorf("tune the IR intensity: %w", err)
		}
		j.intensity = j.chain.autoIntensity(j.intensity, volts)
		rt.Log().Info(fmt.Sprintf("Automatically set IR intensity to %v%%.", j.intensity))
	} else if j.intensity > 90 {
		rt.Log().Warn(fmt.Sprintf("The IR intensity %v%% is high; above 90%% the LED ages quickly.", j.intensity))
	}
	if err := rt.Set(ctx, "ir_led_intensity", j.intensity); err != nil {
		return err
	}
	if err := rt.Set(ctx, "interval", j.interval.Seconds()); err != nil {
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
			err := j.record(ctx)
			switch {
			case errors.Is(err, errOverVoltage):
				rt.Stop() // the reference sends itself SIGTERM
				return nil
			case err != nil && ctx.Err() == nil:
				rt.Log().Error("OD reading failed", "err", err)
			}
		}
	}
}

// record takes one reading and publishes it (docs/jobs.md, "Each reading").
func (j *ODReading) record(ctx context.Context) error {
	if j.first {
		j.first = false
		if err := j.rt.Set(ctx, "first_od_obs_time", float64(j.rt.Clock().Now().UnixNano())/1e9); err != nil {
			return err
		}
	}
	volts, err := j.chain.snapshot(ctx, j.intensity)
	if err != nil {
		return err
	}
	raw, factor, noisy, err := j.chain.normalise(volts)
	if noisy {
		j.rt.Log().Warn(noisyRefWarning)
		j.pauseDosing(ctx)
	}
	if err != nil {
		return err
	}
	if v0 := j.chain.ref.v0(); v0 > 0 && v0 != j.storedV0 {
		if err := j.cache.put(cacheIRReference, j.rt.Experiment(), v0); err != nil {
			j.rt.Log().Warn("could not store the IR reference", "err", err)
		}
		j.storedV0 = v0
	}
	for ch, b := range j.blank {
		if _, ok := raw[ch]; ok {
			raw[ch] -= b
		}
	}
	stamp := contract.Timestamp(j.rt.Clock().Now())
	if err := j.publish(ctx, stamp, raw); err != nil {
		return err
	}
	if err := j.publishFused(ctx, stamp, raw); err != nil {
		return err
	}
	if j.random.Float64() < 0.2 {
		rel := contract.RelativeIntensity{RelativeIntensityOfIRLED: contract.Decimal(factor), Timestamp: stamp}
		return j.rt.Set(ctx, "relative_intensity_of_ir_led", rel)
	}
	return nil
}

// publish applies the calibrations and publishes ods, od<c> and, for calibrated channels,
// raw_od<c> and calibrated_od<c>. A calibration error clears ods, od<c> and calibrated_od<c>
// but still publishes the fresh raw_od<c>.
func (j *ODReading) publish(ctx context.Context, stamp contract.Timestamp, raw map[string]float64) error {
	ods := contract.ODReadings{Timestamp: stamp, ODs: map[string]any{}}
	raws := map[string]contract.RawODReading{}
	cals := map[string]contract.CalibratedODReading{}
	var calErr error
	for ch, angle := range j.chain.angles {
		r := contract.RawODReading{Timestamp: stamp, Angle: angle, OD: contract.Decimal(raw[ch]),
			Channel: ch, IRLEDIntensity: contract.Decimal(j.intensity)}
		raws[ch] = r
		ods.ODs[ch] = r
		cal, ok := j.cals.byChannel[ch]
		if !ok {
			continue
		}
		od, clamped, err := odFor(cal, raw[ch], j.intensity)
		if err != nil {
			calErr = errors.Join(calErr, fmt.Errorf("channel %s: %w", ch, err))
			continue
		}
		if clamped && j.rt.Clock().Now().Sub(j.cals.lastWarn) >= clampWarnEvery {
			j.cals.lastWarn = j.rt.Clock().Now()
			j.rt.Log().Warn(fmt.Sprintf("OD reading %v on channel %s is outside the calibration %s: reporting the OD of its nearest recorded point, %v.", raw[ch], ch, cal.Name, od))
		}
		c := contract.CalibratedODReading{Calibrated: 1, Timestamp: stamp, Angle: angle, OD: contract.Decimal(od),
			Channel: ch, IRLEDIntensity: contract.Decimal(j.intensity), CalibrationName: cal.Name}
		cals[ch] = c
		ods.ODs[ch] = c
	}
	channels := sortedKeys(j.chain.angles)
	if calErr != nil {
		errs := []error{j.rt.Set(ctx, "ods", nil)}
		for _, ch := range channels {
			errs = append(errs, j.rt.Set(ctx, "od"+ch, nil))
			if _, ok := j.cals.byChannel[ch]; ok {
				errs = append(errs, j.rt.Set(ctx, "calibrated_od"+ch, nil), j.rt.Set(ctx, "raw_od"+ch, raws[ch]))
			}
		}
		return errors.Join(append(errs, fmt.Errorf("calibration failed: %w", calErr))...)
	}
	// Every topic is tried even when one fails: od<c> is the data the leader stores, and a
	// refused retained `ods` (a frozen broker) must not cost it.
	errs := []error{j.rt.Set(ctx, "ods", ods)}
	for _, ch := range channels {
		errs = append(errs, j.rt.Set(ctx, "od"+ch, ods.ODs[ch]))
		if c, ok := cals[ch]; ok {
			errs = append(errs, j.rt.Set(ctx, "raw_od"+ch, raws[ch]), j.rt.Set(ctx, "calibrated_od"+ch, c))
		}
	}
	return errors.Join(errs...)
}

// pauseDosing asks the dosing automation to sleep while the reference is unreliable.
func (j *ODReading) pauseDosing(ctx context.Context) {
	topic := contract.SetTopic(j.rt.Unit(), j.rt.Experiment(), "dosing_automation", contract.StateAttr)
	if err := j.rt.Publish(ctx, topic, []byte(supervisor.Sleeping), pubsub.AtLeastOnce, false); err != nil {
		j.rt.Log().Debug("pause dosing", "err", err)
	}
}

// irOff switches the IR LED off when the job ends.
func (j *ODReading) irOff() {
	if j.chain.overVoltage {
		return // every LED is already off
	}
	if _, err := setLEDs(context.Background(), j.rt, j.chain.bank, ledChange{desired: map[string]float64{j.chain.irChannel: 0}, holder: j.chain.holder}); err != nil {
		j.rt.Log().Error("could not switch the IR LED off", "err", err)
	}
}

func (j *ODReading) onIntensity(v any) error {
	ir := v.(float64)
	if !(ir >= 0 && ir <= 100) {
		return fmt.Errorf("ir_led_intensity %v must be within 0–100", ir)
	}
	j.intensity = ir
	return j.rt.Set(context.Background(), "ir_led_intensity", ir)
}

func (j *ODReading) onInterval(v any) error {
	s := v.(float64)
	period, err := odInterval(s)
	if err != nil {
		return err // the interval and the timer stay as they were
	}
	if s <= 1 {
		j.rt.Log().Warn("Recommended to keep the interval above 1 second.")
	}
	j.interval = period
	j.chain.ref.setInterval(s)
	j.timer.Stop()
	j.timer = newRepeat(j.ctx, j.rt.Clock(), 0, j.interval)
	return j.rt.Set(context.Background(), "interval", s)
}

// odInterval checks an od_reading interval in seconds: [minODInterval, a year].
func odInterval(s float64) (time.Duration, error) {
	return durationIn("interval", s, time.Second, minODInterval, clock.MaxDuration)
}

// odIntervalOfRate is the interval of [od_reading.config] samples_per_second, checked alike.
func odIntervalOfRate(sps float64) (time.Duration, error) {
	d, err := durationIn("interval", 1/sps, time.Second, minODInterval, clock.MaxDuration)
	if err != nil { // also catches sps ≤ 0 and NaN: 1/sps is then negative, infinite or NaN
		return 0, fmt.Errorf("[%s] samples_per_second %v must give an interval within [%v, %v]: %w", odSection, sps, minODInterval, clock.MaxDuration, err)
	}
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
