package periph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal"
)

// Config says where the hardware is. Zero values are a Raspberry Pi's defaults; tests point
// the roots at a temporary directory and hand in a scripted Bus and fake Lines.
type Config struct {
	DeviceTree  string // "/proc/device-tree"
	Sys         string // "/sys": hwmon, firmware flags, thermal
	PWMRoot     string // "/sys/class/pwm"
	HardwareDir string // $DOT_PIOREACTOR/hardware: YAML over the embedded defaults
	Disk        string // "/": the disk whose free space the monitor reports

	Identity IdentityOverrides
	Firmware string // FIRMWARE=0.5 overrides what the HAT MCU says
	Model    Model  // MODEL_NAME / MODEL_VERSION; zero: DefaultModel
	PWMChip  int    // pwmchip number; < 0 (or 0 with PWMChipSet false): found by FindPWMChip
	// PWMChipSet says PWMChip was configured ([hardware] pwm_chip).
	PWMChipSet bool
	GPIOLabel  string            // "": chosen by the Pi model
	Roles      map[string]string // [PWM]: channel -> role, for each output's frequency
	StirringHz float64           // [stirring.config] pwm_hz (200)
	MainsHz    float64           // [od_reading.config] local_ac_hz; 0: chosen on the first OD reading

	Clock clock.Clock
	Log   *slog.Logger
	Bus   Bus   // nil: /dev/i2c-1
	Lines Lines // nil: the gpioioctl chip with GPIOLabel
}

func (c *Config) defaults() {
	set := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	set(&c.DeviceTree, "/proc/device-tree")
	set(&c.Sys, "/sys")
	set(&c.PWMRoot, "/sys/class/pwm")
	set(&c.Disk, "/")
	if c.StirringHz <= 0 {
		c.StirringHz = 200
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Frequencies of the outputs by role: the heater's is fixed, a pump's comes from its
// calibration (250 Hz in the default one) and may change later through SetFrequency.
const (
	HeaterHz = 16
	PumpHz   = 250
)

// Hardware is an opened HAT: its hal.Board and what must be released at the end.
type Hardware struct {
	board   hal.Board
	report  Report
	release []hal.Releaser
	bus     Bus
	ownBus  bool
}

// Board is the unit's devices for the supervisor.
func (h *Hardware) Board() hal.Board { return h.board }

// Report is what was found.
func (h *Hardware) Report() Report { return h.report }

// Close drives every PWM output low, then closes the bus.
func (h *Hardware) Close() error {
	var errs []error
	for _, r := range h.release {
		errs = append(errs, r.Release())
	}
	if h.ownBus && h.bus != nil {
		errs = append(errs, h.bus.Close())
	}
	return errors.Join(errs...)
}

// Open finds the HAT and opens every device of its layout. It refuses, with one message
// naming everything missing, if anything the unit needs is not there.
func Open(cfg Config) (*Hardware, error) {
	h := Inspect(cfg)
	if p := h.report.Problems; len(p) > 0 {
		_ = h.Close()
		return nil, fmt.Errorf("%w:\n  %s", errHardware, strings.Join(p, "\n  "))
	}
	return h, nil
}

var errHardware = errors.New("the HAT is not ready (run `pioreactord hardware check`, or use --sim)")

// Inspect opens whatever it can and reports the rest: `pioreactord hardware check`.
func Inspect(cfg Config) *Hardware {
	cfg.defaults()
	h := &Hardware{}
	r := &h.report
	id, err := ReadIdentity(cfg.DeviceTree, cfg.Identity)
	r.PiModel = id.PiModel
	if err != nil {
		r.problem("%v", err)
		return h
	}
	if !id.HATPresent {
		r.HAT = "none"
		if id.Vendor == "" {
			// The firmware reads the EEPROM at boot only: a HAT seated later is not seen.
			r.problem("%v: no HAT EEPROM under %s/hat (is the HAT seated? was it there at boot?); HAT_PRESENT=1 and HARDWARE=1.2 force one", ErrNoHAT, cfg.DeviceTree)
		} else {
			r.HAT = fmt.Sprintf("%s by %q", id.Product, id.Vendor)
			r.problem("%v: the HAT's EEPROM names %q, product %q, not Pioreactor Inc.'s HAT", ErrNoHAT, id.Vendor, id.Product)
		}
		return h
	}
	if !id.HATKnown {
		r.problem("HAT version unknown: %s/hat/product_ver is missing (unwritten EEPROM or a ribbon cable?): set HARDWARE=1.2 or your HAT's version", cfg.DeviceTree)
		return h
	}
	r.HAT = fmt.Sprintf("Pioreactor HAT %s, serial %s", id.HATVersion, id.Serial)
	label := cfg.GPIOLabel
	if label == "" {
		if label, err = GPIOChipLabel(id.PiModel); err != nil && cfg.Lines == nil {
			r.problem("%v", err)
			return h
		}
	}
	r.GPIOChip = label
	layout, err := LoadLayout(cfg.HardwareDir, id.HATVersion, cfg.Model)
	r.Model = layout.Model.String()
	if err != nil {
		r.problem("%v", err)
		return h
	}
	h.bus = cfg.Bus
	if h.bus == nil {
		if h.bus, err = OpenBus(1); err != nil {
			r.problem("%v", err)
			return h
		}
		h.ownBus = true
	}
	h.openI2C(cfg, layout)
	h.openGPIO(cfg, layout, label)
	h.board.Power = Power{Sys: cfg.Sys}
	h.board.Host = Host{Sys: cfg.Sys, Disk: cfg.Disk}
	if f, err := h.board.Power.UnderVoltage(); err == nil {
		r.Power = map[hal.UnderVoltageFlag]string{hal.UnderVoltageUnknown: "under-voltage flag not readable", hal.UnderVoltageClear: "no under-voltage", hal.UnderVoltageSet: "UNDER-VOLTAGE reported by the Pi"}[f]
	}
	if h.board.Rail != nil {
		ctx, cancel := context.WithTimeout(context.Background(), ADS1115Timeout*2)
		v, err := h.board.Rail.RailVolts(ctx)
		cancel()
		if err != nil {
			r.problem("aux rail: %v", err)
		} else {
			r.Rail = fmt.Sprintf("%.2f V", v)
		}
	}
	return h
}
