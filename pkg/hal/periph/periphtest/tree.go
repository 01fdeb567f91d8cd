package periphtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/pioreactor/pioreactord/pkg/hal/periph"
)

// Lines are fake GPIO lines, made on first use.
type Lines struct {
	mu     sync.Mutex
	pins   map[int]*gpiotest.Pin
	panics map[int]bool
}

// Line implements periph.Lines.
func (l *Lines) Line(offset int) (gpio.PinIO, error) {
	return &line{Pin: l.Pin(offset), l: l}, nil
}

// PanicOnWait makes the next wait for an edge on offset panic: a job that crashes while it
// holds an output (the stirring job waits on the hall sensor).
func (l *Lines) PanicOnWait(offset int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.panics == nil {
		l.panics = map[int]bool{}
	}
	l.panics[offset] = true
}

type line struct {
	*gpiotest.Pin
	l *Lines
}

func (p *line) WaitForEdge(timeout time.Duration) bool {
	p.l.mu.Lock()
	armed := p.l.panics[p.Num]
	delete(p.l.panics, p.Num)
	p.l.mu.Unlock()
	if armed {
		panic(fmt.Sprintf("periphtest: GPIO %d armed to panic", p.Num))
	}
	return p.Pin.WaitForEdge(timeout)
}

// Pin is line offset, to feed edges (EdgesChan) or read the level (L).
func (l *Lines) Pin(offset int) *gpiotest.Pin {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pins == nil {
		l.pins = map[int]*gpiotest.Pin{}
	}
	p, ok := l.pins[offset]
	if !ok {
		p = &gpiotest.Pin{N: fmt.Sprintf("GPIO%d", offset), Num: offset, EdgesChan: make(chan gpio.Level, 64)}
		l.pins[offset] = p
	}
	return p
}

// Claimed says whether the line was ever handed out.
func (l *Lines) Claimed(offset int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.pins[offset]
	return ok
}

// Rig is a whole emulated HAT 1.2 with v1.5 optics on a Raspberry Pi 5 under a temporary root.
type Rig struct {
	Root   string
	Bus    *Bus
	Lines  *Lines
	MCU    *RP2040
	PD1    *ADS1114
	PD2    *ADS1114
	Heater *TMP1075
}

// NewRig writes the fake device tree and /sys under root (the kernel's pwm0/pwm1 already
// exported, as after the first boot) and places the devices on the bus.
func NewRig(root string) (*Rig, error) {
	r := &Rig{Root: root, Lines: &Lines{}, MCU: NewRP2040(), PD1: &ADS1114{Volts: 0.05}, PD2: &ADS1114{Volts: 0.1}, Heater: &TMP1075{Celsius: 25}}
	r.Bus = NewBus(map[uint16]Device{0x2C: r.MCU, 0x48: r.PD1, 0x49: r.PD2, 0x4F: r.Heater})
	files := map[string]string{
		"proc/device-tree/model":                   "Raspberry Pi 5 Model B Rev 1.0\x00",
		"proc/device-tree/hat/vendor":              "Pioreactor Inc.\x00",
		"proc/device-tree/hat/product_id":          "0x0001\x00",
		"proc/device-tree/hat/product_ver":         "0x0012\x00",
		"proc/device-tree/hat/uuid":                "6a3f9c1e-0000-4000-8000-000000000001\x00",
		"sys/class/pwm/pwmchip0/npwm":              "4\n",
		"sys/class/pwm/pwmchip0/export":            "",
		"sys/class/hwmon/hwmon0/name":              "rpi_volt\n",
		"sys/class/hwmon/hwmon0/in0_lcrit_alarm":   "0\n",
		"sys/class/thermal/thermal_zone0/temp":     "45000\n",
		"sys/devices/platform/axi/1f00098000.pwm/": "",
	}
	for ch := 0; ch < 2; ch++ {
		for _, f := range []string{"period", "duty_cycle", "enable"} {
			files[fmt.Sprintf("sys/class/pwm/pwmchip0/pwm%d/%s", ch, f)] = "0\n"
		}
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return nil, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink(filepath.Join(root, "sys/devices/platform/axi/1f00098000.pwm"), filepath.Join(root, "sys/class/pwm/pwmchip0/device")); err != nil {
		return nil, err
	}
	return r, nil
}

// Config points periph.Open at the rig.
func (r *Rig) Config() periph.Config {
	return periph.Config{
		DeviceTree: filepath.Join(r.Root, "proc/device-tree"),
		Sys:        filepath.Join(r.Root, "sys"),
		PWMRoot:    filepath.Join(r.Root, "sys/class/pwm"),
		Disk:       r.Root,
		Bus:        r.Bus,
		Lines:      r.Lines,
	}
}

// Duty reads pwm<ch>'s duty_cycle file (ns) and whether it is enabled.
func (r *Rig) Duty(ch int) (ns int64, enabled bool, err error) {
	dir := filepath.Join(r.Root, fmt.Sprintf("sys/class/pwm/pwmchip0/pwm%d", ch))
	b, err := os.ReadFile(filepath.Join(dir, "duty_cycle"))
	if err != nil {
		return 0, false, err
	}
	e, err := os.ReadFile(filepath.Join(dir, "enable"))
	if err != nil {
		return 0, false, err
	}
	ns, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return ns, strings.TrimSpace(string(e)) == "1", err
}
