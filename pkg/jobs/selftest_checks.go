package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// The checks of docs/jobs.md, "self_test", in the reference's order. Voltages are what the ADC reads.

// photodiodes is the chain, or why the photodiode checks cannot run.
func (s *SelfTest) photodiodes() error {
	if s.chain.rt == nil {
		return errors.New("the photodiode ADC or the LED driver is missing")
	}
	return nil
}

// reads takes n snapshots with the LEDs at want; dark offsets are subtracted when sub is set.
func (s *SelfTest) reads(ctx context.Context, want map[string]float64, n int, gap time.Duration, sub bool) ([]map[string]float64, error) {
	if err := s.photodiodes(); err != nil {
		return nil, err
	}
	var out []map[string]float64
	err := s.chain.withLEDs(ctx, want, func() error {
		for i := range n {
			if i > 0 {
				if err := s.rt.Clock().Sleep(ctx, gap); err != nil {
					return err
				}
			}
			v, err := s.chain.pds.ReadVolts(ctx)
			if err != nil {
				return fmt.Errorf("read photodiodes: %w", err)
			}
			if err := s.chain.guard(ctx, v); err != nil {
				return err
			}
			if sub {
				for ch := range v {
					v[ch] = math.Max(0, v[ch]-s.chain.dark[ch])
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// column is one channel across snapshots.
func column(rows []map[string]float64, ch string) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = r[ch]
	}
	return out
}

// pdLabel is what the config calls a photodiode channel: its angle or REF.
func (s *SelfTest) pdLabel(ch string) string {
	if ch == s.chain.refChannel {
		return "REF"
	}
	return s.chain.angles[ch]
}

// configured lists every configured photodiode channel, REF included, sorted.
func (s *SelfTest) configured() []string {
	chs := sortedKeys(s.chain.angles)
	if s.chain.refChannel != "" {
		chs = append(chs, s.chain.refChannel)
		slices.Sort(chs)
	}
	return chs
}

// takeMotor claims the stirring motor for the current check (released after it).
func (s *SelfTest) takeMotor(ctx context.Context) (*stirAssist, error) {
	if s.motor != nil {
		return s.motor, nil
	}
	st, err := assistStirring(ctx, s.rt, s.conf)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errors.New("the stirring motor is held by another job")
	}
	s.motor = st
	return st, nil
}

// stir spins the bar toward target for a check that needs mixing. Without a motor the check
// goes on unstirred, as a unit without stirring would.
func (s *SelfTest) stir(ctx context.Context, target, tolerance float64, wait time.Duration) error {
	st, err := s.takeMotor(ctx)
	if err != nil {
		s.rt.Log().Debug("checking without stirring", "err", err)
		return ctx.Err()
	}
	if _, err := st.reach(ctx, target, tolerance, wait); err != nil && ctx.Err() == nil {
		s.rt.Log().Debug("stirring did not settle for the check", "err", err)
	}
	return ctx.Err()
}

func (s *SelfTest) testHAT(ctx context.Context) error {
	b := s.rt.Board()
	if b.LEDs == nil || b.Photodiodes == nil {
		return errors.New("HAT is not detected")
	}
	if err := b.LEDs.SetIntensity(s.chain.irChannel, 0); err != nil {
		return fmt.Errorf("the HAT's LED driver does not answer: %w", err)
	}
	return nil
}

func (s *SelfTest) testCorrelations(ctx context.Context) error {
	if err := s.photodiodes(); err != nil {
		return err
	}
	if err := s.stir(ctx, 500, 150, 10*time.Second); err != nil {
		return err
	}
	intensities := []float64{35, 85, 75, 55, 45, 65, 80, 50}
	series := map[string][]float64{}
	for _, in := range intensities {
		rows, err := s.reads(ctx, s.chain.readingLEDs(in), 3, 0, false)
		if err != nil {
			return err
		}
		for _, ch := range s.configured() {
			series[ch] = append(series[ch], odMean(column(rows, ch)))
		}
		if err := s.rt.Clock().Sleep(ctx, seconds(in/100)); err != nil {
			return err
		}
	}
	var weak []string
	s.correlations = nil
	for _, ch := range s.configured() {
		corr := roundTo(stat.Correlation(intensities, series[ch], nil), 2)
		if corr > 0.9 {
			s.correlations = append(s.correlations, [2]string{"IR", s.pdLabel(ch)})
		}
		if !(corr >= 0.90) {
			weak = append(weak, fmt.Sprintf("%s (channel %s): %v", s.pdLabel(ch), ch, corr))
		}
	}
	b, _ := json.Marshal(s.correlations)
	s.publish(ctx, "correlations_between_pds_and_leds", b)
	if len(weak) > 0 {
		return fmt.Errorf("photodiodes do not follow the IR LED: %v", weak)
	}
	return nil
}

func (s *SelfTest) testAmbientLight(ctx context.Context) error {
	rows, err := s.reads(ctx, allOff(), 1, 0, false)
	if err != nil {
		return err
	}
	for _, ch := range sortedKeys(rows[0]) {
		if v := rows[0][ch]; !(v < 0.080) {
			return fmt.Errorf("channel %s reads %.4f V with every LED off (limit 0.080 V): is the lid on, is ambient light leaking in?", ch, v)
		}
	}
	return nil
}

func (s *SelfTest) testDarkOffsets(ctx context.Context) error {
	rows, err := s.reads(ctx, allOff(), 2, 0, false)
	if err != nil {
		return err
	}
	s.chain.dark = map[string]float64{}
	for _, ch := range sortedKeys(rows[0]) {
		s.chain.dark[ch] = odMean(column(rows, ch))
	}
	rows, err = s.reads(ctx, allOff(), 8, 0, true)
	if err != nil {
		return err
	}
	for _, ch := range sortedKeys(rows[0]) {
		col := column(rows, ch)
		m, v := stat.MeanVariance(col, nil)
		if !(m <= 0.010 && v <= 5e-5) {
			return fmt.Errorf("channel %s after dark-offset correction: mean %.4g V (limit 0.010), variance %.3g (limit 5e-5)", ch, m, v)
		}
	}
	return nil
}

func (s *SelfTest) testREFLevel(ctx context.Context) error {
	if err := s.photodiodes(); err != nil {
		return err
	}
	if s.chain.refChannel == "" {
		return errors.New("no REF photodiode in [od_config.photodiode_channel]")
	}
	rows, err := s.reads(ctx, s.chain.readingLEDs(s.intensity), 6, 0, false)
	if err != nil {
		return err
	}
	m, v := stat.MeanVariance(column(rows, s.chain.refChannel), nil)
	if !(m >= 0.01 && m <= 1.0 && v < 1e-2) {
		return fmt.Errorf("REF reads %.4f V (want 0.01–1.0 V) with variance %.3g (limit 1e-2)", m, v)
	}
	return nil
}

func (s *SelfTest) testREFPosition(ctx context.Context) error {
	if s.simulated {
		return skipped{"the simulated vial has no stir-bar shadow, so the REF photodiode's position cannot be told"}
	}
	if err := s.photodiodes(); err != nil {
		return err
	}
	if s.chain.refChannel == "" {
		return errors.New("no REF photodiode in [od_config.photodiode_channel]")
	}
	st, err := s.takeMotor(ctx)
	if err != nil {
		return fmt.Errorf("the check switches stirring on and off itself: %w", err)
	}
	if err := st.setDC(90); err != nil {
		return err
	}
	leds := s.chain.readingLEDs(s.intensity)
	if _, err := s.reads(ctx, leds, 5, 0, false); err != nil { // warm-up
		return err
	}
	medianOf := func(dc float64) (map[string]float64, error) {
		if err := st.setDC(dc); err != nil {
			return nil, err
		}
		if err := s.rt.Clock().Sleep(ctx, time.Second); err != nil {
			return nil, err
		}
		rows, err := s.reads(ctx, leds, 3, 0, false)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, ch := range s.configured() {
			out[ch] = odMedian(column(rows[1:], ch)) // first one settles
		}
		return out, nil
	}
	effects := map[string][]float64{}
	for range 8 {
		off, err := medianOf(0)
		if err != nil {
			return err
		}
		on, err := medianOf(90)
		if err != nil {
			return err
		}
		for _, ch := range s.configured() {
			scale := (math.Abs(on[ch]) + math.Abs(off[ch])) / 2
			e := 0.0
			if scale > 0 {
				e = math.Abs(on[ch]-off[ch]) / scale
			}
			effects[ch] = append(effects[ch], e)
		}
	}
	ref := odMedian(effects[s.chain.refChannel])
	strongest := 0.0
	for ch := range s.chain.angles {
		strongest = math.Max(strongest, odMedian(effects[ch]))
	}
	if !(strongest >= 0.001 && ref <= 0.015 && ref <= 0.75*strongest) {
		return fmt.Errorf("stirring changes REF by %.4f and the strongest signal by %.4f: is the REF photodiode in the REF slot?", ref, strongest)
	}
	return nil
}

func (s *SelfTest) testBlank(ctx context.Context) error {
	if err := s.photodiodes(); err != nil {
		return err
	}
	if err := s.stir(ctx, 500, 50, 40*time.Second); err != nil {
		return err
	}
	if err := s.chain.readDark(ctx); err != nil {
		return err
	}
	rows, err := s.reads(ctx, s.chain.readingLEDs(s.intensity), 6, 1150*time.Millisecond, true)
	if err != nil {
		return err
	}
	for _, ch := range sortedKeys(s.chain.angles) {
		angle := s.chain.angles[ch]
		var limit float64
		switch angle {
		case "45", "90":
			limit = 0.035
		case "135":
			limit = 0.15
		default:
			return fmt.Errorf("channel %s: no blank limit for angle %s", ch, angle)
		}
		if m := odMean(column(rows, ch)); !(m <= limit) {
			return fmt.Errorf("channel %s (%s°) reads %.4f V in the vial (limit %.3f V): is the vial blank, clean and dry outside?", ch, angle, m, limit)
		}
	}
	return nil
}

func (s *SelfTest) testHeatingPCB(ctx context.Context) error {
	th := s.rt.Board().Thermometer
	if th == nil {
		return fmt.Errorf("no heating PCB temperature sensor: %w", hal.ErrNotPresent)
	}
	if _, err := th.ReadCelsius(ctx); err != nil {
		return fmt.Errorf("is the Heating PCB attached to the Pioreactor HAT? %w", err)
	}
	return nil
}

func (s *SelfTest) testHeating(ctx context.Context) error {
	th := s.rt.Board().Thermometer
	if th == nil {
		return fmt.Errorf("no heating PCB temperature sensor: %w", hal.ErrNotPresent)
	}
	pwm, err := s.rt.PWM(s.heater)
	if err != nil {
		return fmt.Errorf("heater: %w", err)
	}
	defer func() { _ = s.rt.ReleasePWM(s.heater) }()
	var dcs, temps []float64
	for dc := 0.0; dc < 30; dc += 3 {
		if err := pwm.SetDutyCycle(dc); err != nil {
			return err
		}
		if err := s.rt.Clock().Sleep(ctx, 1500*time.Millisecond); err != nil {
			return err
		}
		t, err := th.ReadCelsius(ctx)
		if err != nil {
			return fmt.Errorf("read the PCB temperature: %w", err)
		}
		dcs, temps = append(dcs, dc), append(temps, t)
	}
	if err := pwm.SetDutyCycle(0); err != nil {
		return err
	}
	if corr := stat.Correlation(dcs, temps, nil); !(corr > 0.9) {
		return fmt.Errorf("PCB temperature does not follow the heater: correlation %.2f (want > 0.9), temperatures %v", corr, temps)
	}
	return nil
}

func (s *SelfTest) testStirring(ctx context.Context) error {
	if s.rt.Board().Hall == nil {
		return fmt.Errorf("no hall sensor to measure RPM: %w", hal.ErrNotPresent)
	}
	initial, err := s.conf.Float(stirringSection, "initial_duty_cycle", 30)
	if err != nil {
		return err
	}
	st, err := s.takeMotor(ctx)
	if err != nil {
		return fmt.Errorf("the check drives the stirring motor itself: %w", err)
	}
	hi, lo := math.Min(1.2*initial, 100), math.Max(0.8*initial, 5)
	var dcs, rpms []float64
	for i := range 8 {
		dc := hi + (lo-hi)*float64(i)/7
		if err := st.setDC(dc); err != nil {
			return err
		}
		if err := s.rt.Clock().Sleep(ctx, time.Second); err != nil {
			return err
		}
		rpm, err := st.measure(ctx, 3*time.Second)
		if err != nil {
			return err
		}
		dcs, rpms = append(dcs, dc), append(rpms, rpm)
	}
	if corr := stat.Correlation(dcs, rpms, nil); !(corr > 0.9) {
		return fmt.Errorf("RPM does not follow the duty cycle: correlation %.2f (want > 0.9), RPM %v at DC %v", corr, rpms, dcs)
	}
	return nil
}

// testAuxPower reads the HAT's auxiliary (PWM) rail: at most auxPowerMaxVolts.
func (s *SelfTest) testAuxPower(ctx context.Context) error {
	rail := s.rt.Board().Rail
	if rail == nil {
		return skipped{"the board has no auxiliary-voltage sensor the daemon can read"}
	}
	v, err := rail.RailVolts(ctx)
	if err != nil {
		return fmt.Errorf("read the aux rail: %w", err)
	}
	if v > auxPowerMaxVolts {
		return fmt.Errorf("aux power is %.2f V, above %v V", v, auxPowerMaxVolts)
	}
	return nil
}

// auxPowerMaxVolts is the highest aux rail voltage the self-test accepts.
const auxPowerMaxVolts = 18.0
