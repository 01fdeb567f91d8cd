package periph

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pwmTree is a fake /sys/class/pwm: chips with npwm and a device link, channels exported.
func pwmTree(t *testing.T, chips map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for chip, dev := range chips {
		name, npwm, _ := strings.Cut(chip, ":")
		dir := filepath.Join(root, "class/pwm", name)
		for _, f := range []string{"pwm0/period", "pwm0/duty_cycle", "pwm0/enable", "pwm1/period", "pwm1/duty_cycle", "pwm1/enable", "export"} {
			p := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "npwm"), []byte(npwm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(root, "devices", dev)
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, "device")); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "class/pwm")
}

func TestFindPWMChip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		chips    map[string]string
		override int
		want     string
		fails    bool
	}{
		{"Pi 4: the only chip", map[string]string{"pwmchip0:2": "fe20c000.pwm"}, -1, "pwmchip0", false},
		{"Pi 5 on 6.6: RP1's first PWM is pwmchip2", map[string]string{"pwmchip0:4": "1f0009c000.pwm", "pwmchip2:4": "1f00098000.pwm"}, -1, "pwmchip2", false},
		{"one-channel chips do not count", map[string]string{"pwmchip0:1": "x.pwm", "pwmchip1:2": "y"}, -1, "pwmchip1", false},
		{"override", map[string]string{"pwmchip0:4": "a", "pwmchip3:4": "b"}, 3, "pwmchip3", false},
		{"overlay not loaded", map[string]string{}, -1, "", true},
		{"ambiguous", map[string]string{"pwmchip0:4": "a", "pwmchip1:4": "b"}, -1, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := FindPWMChip(pwmTree(t, tc.chips), tc.override)
			if tc.fails != (err != nil) || filepath.Base(got) != tc.want && !tc.fails {
				t.Fatalf("FindPWMChip = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func readAttr(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSysfsPWM(t *testing.T) {
	t.Parallel()
	chip := filepath.Join(pwmTree(t, map[string]string{"pwmchip0:2": "fe20c000.pwm"}), "pwmchip0")
	dir := filepath.Join(chip, "pwm1")
	if err := os.WriteFile(filepath.Join(dir, "duty_cycle"), []byte("4000000"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := NewSysfsPWM(chip, 1, 250)
	if err != nil {
		t.Fatal(err)
	}
	attrs := func() [3]string {
		return [3]string{readAttr(t, dir, "period"), readAttr(t, dir, "duty_cycle"), readAttr(t, dir, "enable")}
	}
	steps := []struct {
		do   func() error
		want [3]string
	}{
		{func() error { return nil }, [3]string{"4000000", "0", "0"}},                        // a predecessor's duty is gone
		{func() error { return p.SetDutyCycle(33.3) }, [3]string{"4000000", "1331999", "1"}}, // int(4e6 × 33.3 / 100) in doubles, as the original
		{func() error { return p.SetFrequency(300) }, [3]string{"3333333", "1110000", "1"}},  // duty from the untruncated period
		{func() error { return p.SetDutyCycle(0) }, [3]string{"3333333", "0", "0"}},
		{func() error { return p.SetDutyCycle(100) }, [3]string{"3333333", "3333333", "1"}},
		{p.Release, [3]string{"3333333", "0", "0"}},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := attrs(); got != s.want {
			t.Fatalf("step %d: period, duty, enable = %v, want %v", i, got, s.want)
		}
	}
	if err := p.SetDutyCycle(5); !errors.Is(err, ErrClosed) {
		t.Fatalf("after release: %v", err)
	}
}

func TestSysfsPWMExportWaits(t *testing.T) {
	t.Parallel()
	chip := filepath.Join(pwmTree(t, map[string]string{"pwmchip0:2": "fe20c000.pwm"}), "pwmchip0")
	if err := os.RemoveAll(filepath.Join(chip, "pwm0")); err != nil {
		t.Fatal(err)
	}
	p := &SysfsPWM{dir: filepath.Join(chip, "pwm0")}
	polls := 0
	p.sleep = func(time.Duration) {
		polls++
		if polls == 3 { // the kernel creates the channel after a while
			for _, f := range []string{"period", "duty_cycle", "enable"} {
				_ = os.MkdirAll(p.dir, 0o755)
				_ = os.WriteFile(filepath.Join(p.dir, f), []byte("0"), 0o644)
			}
		}
	}
	if err := p.export(chip, 0); err != nil {
		t.Fatal(err)
	}
	if got := readAttr(t, chip, "export"); got != "0" || polls != 3 {
		t.Fatalf("export %q after %d polls", got, polls)
	}
}

// The period never changes under a non-zero duty: the kernel refuses a duty longer than the
// period, and a pump would see one odd pulse.
func TestSysfsPWMDutyZeroBeforePeriod(t *testing.T) {
	t.Parallel()
	var writes []string
	p := &SysfsPWM{dir: "/pwm0", sleep: func(time.Duration) {}, writeF: func(path, v string) error {
		writes = append(writes, filepath.Base(path)+"="+v)
		return nil
	}}
	if err := p.setPeriod(250); err != nil {
		t.Fatal(err)
	}
	if err := p.SetDutyCycle(50); err != nil {
		t.Fatal(err)
	}
	writes = nil
	if err := p.SetFrequency(500); err != nil {
		t.Fatal(err)
	}
	want := []string{"duty_cycle=0", "period=2000000", "duty_cycle=1000000"}
	if strings.Join(writes, " ") != strings.Join(want, " ") {
		t.Fatalf("writes %v, want %v", writes, want)
	}
}

// udev fixes a new channel's permissions a moment after the kernel creates it: a duty write
// that is refused is retried after 50, 100 and 150 ms, then once more.
func TestSysfsPWMRetriesPermission(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		refusals int
		fails    bool
	}{{0, false}, {2, false}, {3, false}, {4, true}} {
		var slept []time.Duration
		n := 0
		p := &SysfsPWM{dir: "/pwm1", period: 4e6, sleep: func(d time.Duration) { slept = append(slept, d) }, writeF: func(path, v string) error {
			if filepath.Base(path) == "duty_cycle" && n < tc.refusals {
				n++
				return fs.ErrPermission
			}
			return nil
		}}
		err := p.SetDutyCycle(10)
		if (err != nil) != tc.fails || (tc.fails && !errors.Is(err, fs.ErrPermission)) {
			t.Fatalf("%d refusals: %v", tc.refusals, err)
		}
		if want := min(tc.refusals, 3); len(slept) != want {
			t.Fatalf("%d refusals: slept %v", tc.refusals, slept)
		}
	}
}

func TestProbeByRead(t *testing.T) {
	t.Parallel()
	for addr, want := range map[uint16]bool{0x2C: false, 0x30: true, 0x37: true, 0x48: false, 0x50: true, 0x5F: true, 0x4F: false} {
		if probeByRead(addr) != want {
			t.Errorf("probeByRead(%#x) = %v", addr, !want)
		}
	}
}
