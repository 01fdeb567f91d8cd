package jobs

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

var selfTestNames = []string{
	"test_pioreactor_HAT_present",
	"test_all_positive_correlations_between_pds_and_leds",
	"test_ambient_light_interference",
	"test_dark_offset_correction_is_effective",
	"test_REF_is_lower_than_0_dot_256_volts",
	"test_REF_is_in_correct_position",
	"test_PD_is_near_0_volts_for_blank",
	"test_detect_heating_pcb",
	"test_positive_correlation_between_temperature_and_heating",
	"test_positive_correlation_between_rpm_and_stirring",
	"test_aux_power_is_not_too_high",
}

// selfTestResult reads a retained self-test topic (under $experiment).
func (r *odRig) selfTestResult(name string) string {
	return r.retainedAt(contract.UniversalExp, "self_test", name)
}

// The self-test on the simulated unit: with a vial of media every check that can run passes;
// the two that cannot (REF position, aux voltage) are skipped, not passed. With a culture in
// the vial the blank check fails, and retry_failed reruns only that check.
func TestSelfTestOnSimulatedUnit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params sim.Params
		failed string // "" for none
	}{
		{"media vial", mediaParams(), ""},
		{"culture in the vial", sim.DefaultParams(), "test_PD_is_near_0_volts_for_blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newODRig(t, tc.params, "")
				defer r.close()
				r.start("self_test", nil)
				waitDisconnected(t, r, "self_test")
				skippedWant := map[string]bool{"test_REF_is_in_correct_position": true, "test_aux_power_is_not_too_high": true}
				for _, name := range selfTestNames {
					want := "1"
					switch {
					case skippedWant[name]:
						want = ""
					case name == tc.failed:
						want = "0"
					}
					if got := r.selfTestResult(name); got != want {
						t.Errorf("%s = %q, want %q", name, got, want)
					}
				}
				if got := r.selfTestResult("skipped_tests"); got != `["test_REF_is_in_correct_position","test_aux_power_is_not_too_high"]` {
					t.Errorf("skipped_tests = %s", got)
				}
				if got := r.selfTestResult("correlations_between_pds_and_leds"); got != `[["IR","REF"],["IR","90"]]` {
					t.Errorf("correlations = %s", got)
				}
				all := "1"
				if tc.failed != "" {
					all = "0"
				}
				if got := r.selfTestResult("all_tests_passed"); got != all {
					t.Errorf("all_tests_passed = %q, want %q", got, all)
				}
				if leds := unitLEDs(r.plant.Board().LEDs).snapshot(); leds["A"] != 0 {
					t.Errorf("IR LED left at %v", leds["A"])
				}
				time.Sleep(5 * time.Second) // the bar coasts to a stop
				if truth := r.plant.Truth(); truth.RPM > 1 {
					t.Errorf("motor left at %v RPM", truth.RPM)
				}
				if tc.failed == "" {
					return
				}
				r.start("self_test", map[string]any{"retry_failed": true})
				waitDisconnected(t, r, "self_test")
				if got := r.selfTestResult(tc.failed); got != "0" {
					t.Errorf("retried %s = %q", tc.failed, got)
				}
				if got := r.selfTestResult("test_pioreactor_HAT_present"); got != "1" {
					t.Errorf("a passed check was touched by retry_failed: %q", got)
				}
			})
		})
	}
}

// Broken hardware fails its checks: a silent thermometer fails the heating checks, and a
// stir bar that does not follow the motor fails the RPM check; -k selects checks by name.
func TestSelfTestFailsOnFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, mediaParams(), "")
		defer r.close()
		r.plant.SetFault(sim.FaultThermometer, true)
		r.plant.SetFault(sim.FaultStirDecoupled, true)
		r.start("self_test", map[string]any{"k": "correlation_between"})
		waitDisconnected(t, r, "self_test")
		for name, want := range map[string]string{
			"test_positive_correlation_between_temperature_and_heating": "0",
			"test_positive_correlation_between_rpm_and_stirring":        "0",
			"test_detect_heating_pcb":                                   "", // not selected by -k
			"test_pioreactor_HAT_present":                               "",
		} {
			if got := r.selfTestResult(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if got := r.selfTestResult("all_tests_passed"); got != "0" {
			t.Errorf("all_tests_passed = %q", got)
		}
	})
}

// The self-test refuses to run beside a job whose hardware it drives.
func TestSelfTestRefusesBesideStirring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, mediaParams(), "")
		defer r.close()
		r.start("stirring", nil)
		time.Sleep(time.Second)
		err := r.startErr("self_test", nil)
		if err == nil || !strings.Contains(err.Error(), "stirring should be off") {
			t.Fatalf("self_test beside stirring: %v", err)
		}
	})
}
