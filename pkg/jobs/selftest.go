package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// SelfTest is the `self_test` action (docs/jobs.md, "self_test"): it runs the hardware checks in the
// reference's order and publishes each outcome as pioreactor/<unit>/$experiment/self_test/<test>
// = 1 or 0, then all_tests_passed. A check that cannot say anything on this board (no device
// for it, or physics the simulation does not model) is skipped: its topic stays empty, it is
// listed in skipped_tests, and it does not count for all_tests_passed.
type SelfTest struct {
	cache       unitCache
	conf        *config.Config
	filter      string // option k: run only tests whose name contains it
	retryFailed bool   // only tests stored as failed
	simulated   bool
	heater      string // PWM channel of the heater
	intensity   float64
	chain       *odChain
	timeout     time.Duration

	rt           *supervisor.Runtime
	motor        *stirAssist // the stirring motor while a check holds it
	correlations [][2]string
}

// selfTestJobName is the action's name on the wire.
const selfTestJobName = "self_test"

// selfTestTimeout bounds each check; a check that runs out of time fails.
const selfTestTimeout = 180 * time.Second

// jobsBlockingSelfTest are the jobs whose hardware the checks drive.
var jobsBlockingSelfTest = []string{odReadingJobName, "temperature_automation", "stirring", "dosing_automation", "led_automation"}

// NewSelfTestSpec is the action's job table entry. Outcomes are stored in d.CacheDir (for
// retry_failed); d.Simulated skips the checks of physics the simulated bioreactor lacks.
func NewSelfTestSpec(d ODDeps) supervisor.Spec {
	return supervisor.Spec{Name: selfTestJobName, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newSelfTest(o, d)
	}}
}

func newSelfTest(o supervisor.Options, d ODDeps) (*SelfTest, error) {
	var r collect
	retry := r.bool(o.Bool("retry_failed", false))
	chain, emaWeight, err := odChainConfig(o.Config)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	ir, _, err := irIntensity(o) // auto checks at 80 %, as the reference
	if err != nil {
		return nil, err
	}
	if o.String("ir_led_intensity", o.Config.String(odSection, "ir_led_intensity", "80")) == "auto" {
		ir = 80
	}
	chain.ref = newRefTracker("classic", emaWeight, 1.15, chain.refChannel != "")
	heater := "5"
	if ch, ok := o.Config.PWMChannelFor("heating"); ok {
		heater = ch
	}
	return &SelfTest{cache: unitCache{dir: d.CacheDir}, conf: o.Config, filter: o.String("k", ""), retryFailed: retry,
		simulated: d.Simulated, heater: heater, intensity: ir, chain: chain, timeout: selfTestTimeout}, nil
}

// selfCheck is one named check; it returns nil for a pass, a skip error, or why it failed.
type selfCheck struct {
	name string
	run  func(ctx context.Context) error
}

// skipped marks a check that cannot run on this board.
type skipped struct{ reason string }

func (s skipped) Error() string { return "skipped: " + s.reason }

func (s *SelfTest) checks() []selfCheck {
	return []selfCheck{
		{"test_pioreactor_HAT_present", s.testHAT},
		{"test_all_positive_correlations_between_pds_and_leds", s.testCorrelations},
		{"test_ambient_light_interference", s.testAmbientLight},
		{"test_dark_offset_correction_is_effective", s.testDarkOffsets},
		{"test_REF_is_lower_than_0_dot_256_volts", s.testREFLevel},
		{"test_REF_is_in_correct_position", s.testREFPosition},
		{"test_PD_is_near_0_volts_for_blank", s.testBlank},
		{"test_detect_heating_pcb", s.testHeatingPCB},
		{"test_positive_correlation_between_temperature_and_heating", s.testHeating},
		{"test_positive_correlation_between_rpm_and_stirring", s.testStirring},
		{"test_aux_power_is_not_too_high", s.testAuxPower},
	}
}

// Run implements supervisor.Job: it runs the selected checks and returns an error if any failed.
func (s *SelfTest) Run(ctx context.Context, rt *supervisor.Runtime) error {
	s.rt = rt
	for _, job := range jobsBlockingSelfTest {
		running, err := rt.JobIsRunning(job)
		if err != nil {
			return err
		}
		if running {
			return fmt.Errorf("%s should be off before a self-test. Perhaps try `pio kill --job-name %s`", job, job)
		}
	}
	if err := s.chain.attach(rt); err != nil {
		rt.Log().Warn("the photodiode checks cannot run", "err", err)
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	stored := map[string]int{}
	if _, err := s.cache.get(cacheSelfTestResults, rt.Unit(), &stored); err != nil {
		rt.Log().Warn("ignoring the stored self-test results", "err", err)
	}
	var selected []selfCheck
	for _, c := range s.checks() {
		if s.filter != "" && !strings.Contains(c.name, s.filter) {
			continue
		}
		if s.retryFailed {
			if v, ok := stored[c.name]; !ok || v != 0 {
				continue
			}
		}
		selected = append(selected, c)
	}
	for _, c := range selected {
		s.publish(ctx, c.name, nil)
	}
	var failed, skips []string
	for _, c := range selected {
		if ctx.Err() != nil {
			break // a stop request halts the remaining checks
		}
		err := s.runOne(ctx, c)
		var skip skipped
		switch {
		case errors.As(err, &skip):
			skips = append(skips, c.name)
			rt.Log().Info(fmt.Sprintf("Skipped %s: %s.", c.name, skip.reason))
			continue
		case err != nil && ctx.Err() != nil:
			continue // stopped, not failed
		case err != nil:
			failed = append(failed, c.name)
			rt.Log().Warn(fmt.Sprintf("%s failed: %v", c.name, err))
			stored[c.name] = 0
			s.publish(ctx, c.name, []byte("0"))
		default:
			rt.Log().Debug(c.name + " passed")
			stored[c.name] = 1
			s.publish(ctx, c.name, []byte("1"))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := s.cache.put(cacheSelfTestResults, rt.Unit(), stored); err != nil {
		rt.Log().Warn("could not store the self-test results", "err", err)
	}
	skipJSON, _ := json.Marshal(append([]string{}, skips...))
	s.publish(ctx, "skipped_tests", skipJSON)
	if len(failed) > 0 {
		s.publish(ctx, "all_tests_passed", []byte("0"))
		return fmt.Errorf("self-test failed: %s", strings.Join(failed, ", "))
	}
	s.publish(ctx, "all_tests_passed", []byte("1"))
	rt.Log().Info("All tests passed ✅")
	return nil
}

// runOne runs a check with its time limit, leaving every LED off afterwards.
func (s *SelfTest) runOne(ctx context.Context, c selfCheck) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.rt.Go(func() {
		if s.rt.Clock().Sleep(cctx, s.timeout) == nil {
			cancel()
		}
	})
	err := c.run(cctx)
	if s.motor != nil {
		if rerr := s.motor.release(); rerr != nil {
			s.rt.Log().Error("could not stop the stirring motor", "err", rerr)
		}
		s.motor = nil
	}
	if s.chain.rt != nil && !s.chain.overVoltage {
		if _, lerr := setLEDs(context.WithoutCancel(ctx), s.rt, s.chain.bank, ledChange{desired: allOff(), holder: s.chain.holder}); lerr != nil {
			s.rt.Log().Error("could not switch the LEDs off", "err", lerr)
		}
	}
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("timed out after %v: %w", s.timeout, err)
	}
	return err
}

// publish writes a retained result under $experiment; nil clears it.
func (s *SelfTest) publish(ctx context.Context, name string, payload []byte) {
	topic := contract.JobTopic(s.rt.Unit(), contract.UniversalExp, selfTestJobName, name)
	if err := s.rt.Publish(context.WithoutCancel(ctx), topic, payload, pubsub.ExactlyOnce, true); err != nil {
		s.rt.Log().Error("could not publish a self-test result", "test", name, "err", err)
	}
}
