package periph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// HardwarePWMPins are the pins the pwm-2chan overlay routes to the PWM block: GPIO 12 is
// channel 0, GPIO 13 channel 1.
var HardwarePWMPins = map[int]int{12: 0, 13: 1}

// pwmDevices are the PWM blocks that carry GPIO 12/13: RP1's first PWM on a Pi 5, the SoC's
// PWM (at 0x…20c000) on a Pi 0–4.
var pwmDevices = []string{"1f00098000.pwm", "20c000.pwm"}

// exportWait is how long a freshly exported channel may take to appear (udev fixes its
// permissions asynchronously).
const exportWait = 10 * time.Second

// FindPWMChip picks the kernel PWM chip under root ("/sys/class/pwm") for GPIO 12/13:
// pwmchip<override> when override ≥ 0, else the chip with at least two channels whose device
// is a known PWM block, else the only chip with at least two channels.
func FindPWMChip(root string, override int) (string, error) {
	hint := "is dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4 in config.txt?"
	if override >= 0 {
		dir := filepath.Join(root, fmt.Sprintf("pwmchip%d", override))
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("PWM chip %s (from the config): %w", dir, err)
		}
		return dir, nil
	}
	chips, _ := filepath.Glob(filepath.Join(root, "pwmchip*"))
	sort.Strings(chips)
	var wide []string
	for _, c := range chips {
		b, err := os.ReadFile(filepath.Join(c, "npwm"))
		if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 2 {
			wide = append(wide, c)
		}
	}
	for _, c := range wide {
		dev, err := filepath.EvalSymlinks(filepath.Join(c, "device"))
		if err != nil {
			continue
		}
		for _, want := range pwmDevices {
			if strings.HasSuffix(filepath.Base(dev), want) {
				return c, nil
			}
		}
	}
	switch len(wide) {
	case 0:
		return "", fmt.Errorf("no PWM chip with two channels under %s: %s", root, hint)
	case 1:
		return wide[0], nil
	}
	return "", fmt.Errorf("several PWM chips under %s (%s) and none is a known PWM block: set [hardware] pwm_chip", root, strings.Join(wide, ", "))
}

// SysfsPWM is one channel of a kernel PWM chip (the pwm-2chan overlay's GPIO 12/13).
// periph's bcm283x PWM writes the PWM block through /dev/mem: root only, not on a Pi 5, and at
// odds with the kernel's overlay.
type SysfsPWM struct {
	dir    string // …/pwmchipN/pwmM
	mu     sync.Mutex
	period float64 // ns
	dc     float64
	on     bool
	off    bool // released
	sleep  func(time.Duration)
	writeF func(path, value string) error // writeFile; tests record or fail writes
}

var (
	_ hal.FrequencyPWM = (*SysfsPWM)(nil)
	_ hal.Releaser     = (*SysfsPWM)(nil)
)

// NewSysfsPWM exports channel ch of chip (waiting for the kernel and udev), then sets the
// period for hz with the duty at 0.
func NewSysfsPWM(chip string, ch int, hz float64) (*SysfsPWM, error) {
	p := &SysfsPWM{dir: filepath.Join(chip, fmt.Sprintf("pwm%d", ch)), sleep: time.Sleep, writeF: writeFile}
	if err := p.export(chip, ch); err != nil {
		return nil, err
	}
	if err := p.setPeriod(hz); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *SysfsPWM) export(chip string, ch int) error {
	if _, err := os.Stat(p.dir); err == nil {
		return nil
	}
	if err := writeFile(filepath.Join(chip, "export"), strconv.Itoa(ch)); err != nil {
		return fmt.Errorf("export PWM channel %d of %s: %w", ch, chip, err)
	}
	for deadline := time.Now().Add(exportWait); ; p.sleep(50 * time.Millisecond) {
		if _, err := os.Stat(p.dir); err == nil && syscall.Access(filepath.Join(p.dir, "duty_cycle"), 2) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PWM channel %s did not appear writable within %v: %w", p.dir, exportWait, ErrTimeout)
		}
	}
}

// setPeriod writes the period while the duty is 0 (the kernel refuses a duty longer than the
// period), then the duty 0.
func (p *SysfsPWM) setPeriod(hz float64) error {
	if !(hz > 0 && hz <= 1e6) {
		return fmt.Errorf("hardware PWM at %v Hz: %w", hz, ErrOutOfRange)
	}
	if err := p.write("duty_cycle", "0"); err != nil {
		return err
	}
	period := 1e9 / hz
	if err := p.write("period", strconv.FormatInt(int64(period), 10)); err != nil {
		return err
	}
	p.period = period
	if !p.on {
		// A killed predecessor may have left the channel enabled.
		return p.write("enable", "0")
	}
	return nil
}

// SetDutyCycle implements hal.PWM: duty_ns = period_ns × percent / 100 (from the untruncated
// period); 0 % also disables the output.
func (p *SysfsPWM) SetDutyCycle(percent float64) error {
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("hardware PWM %s: %v%%: %w (want 0–100)", p.dir, percent, ErrOutOfRange)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return ErrClosed
	}
	return p.apply(percent)
}

func (p *SysfsPWM) apply(percent float64) error {
	if err := p.retry("duty_cycle", strconv.FormatInt(int64(p.period*percent/100), 10)); err != nil {
		return err
	}
	p.dc = percent
	if on := percent > 0; on != p.on {
		v := "0"
		if on {
			v = "1"
		}
		if err := p.retry("enable", v); err != nil {
			return err
		}
		p.on = on
	}
	return nil
}

// SetFrequency implements hal.FrequencyPWM: duty 0, the new period, the same duty.
func (p *SysfsPWM) SetFrequency(hz float64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return ErrClosed
	}
	dc := p.dc
	if err := p.setPeriod(hz); err != nil {
		return err
	}
	return p.apply(dc)
}

// Release implements hal.Releaser: duty 0 and disabled (the channel stays exported).
func (p *SysfsPWM) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return nil
	}
	err := p.write("duty_cycle", "0")
	if err == nil {
		err = p.write("enable", "0")
	}
	if err != nil {
		return fmt.Errorf("release hardware PWM %s: %w", p.dir, err)
	}
	p.dc, p.on, p.off = 0, false, true
	return nil
}

// retry writes, retrying a permission error (udev may not have fixed the mode yet) after 50,
// 100 and 150 ms, then once more.
func (p *SysfsPWM) retry(file, value string) error {
	var err error
	for i := 0; i < 4; i++ {
		if err = p.write(file, value); err == nil || !errors.Is(err, fs.ErrPermission) {
			return err
		}
		if i < 3 {
			p.sleep(time.Duration(50*(i+1)) * time.Millisecond)
		}
	}
	return err
}

func (p *SysfsPWM) write(file, value string) error {
	if err := p.writeF(filepath.Join(p.dir, file), value); err != nil {
		return fmt.Errorf("hardware PWM: %w", err)
	}
	return nil
}

// writeFile writes a sysfs attribute in one write(2), as the kernel expects.
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
