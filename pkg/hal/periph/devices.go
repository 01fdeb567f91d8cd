package periph

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// openI2C probes every address of the layout, then opens the drivers: the RP2040 (HAT ≥ 1.1)
// or the ADS1115 and DAC43608 (HAT 1.0), the optics' ADS1114s and the TMP1075.
func (h *Hardware) openI2C(cfg Config, l Layout) {
	r := &h.report
	bus := asI2C(h.bus)
	// Each address once, named by what sits there.
	names := map[uint16][]string{}
	drivers := map[uint16]string{}
	for _, role := range sortedKeys(l.ADC) {
		s := l.ADC[role]
		names[s.Address] = append(names[s.Address], role)
		drivers[s.Address] = s.Driver
	}
	if !l.HasMCU() {
		names[l.DACAddress] = append(names[l.DACAddress], "LEDs")
		drivers[l.DACAddress] = "dac43608"
	}
	names[l.TempAddress] = append(names[l.TempAddress], "heating PCB")
	drivers[l.TempAddress] = "tmp1075"
	addrs := make([]int, 0, len(names))
	for a := range names {
		addrs = append(addrs, int(a))
	}
	sort.Ints(addrs)
	answered := map[uint16]bool{}
	for _, a := range addrs {
		addr := uint16(a)
		err := h.bus.Probe(addr)
		what := fmt.Sprintf("%s at %s", driverNames[drivers[addr]], hex(addr))
		if err != nil {
			err = fmt.Errorf("%w (roles %s)", ErrNoAnswer, strings.Join(names[addr], ", "))
			if drivers[addr] == DriverPico {
				err = fmt.Errorf("%w: is the HAT seated, and did load_rp2040.service load its firmware?", err)
			}
		}
		r.device(what, err, "answers; roles "+strings.Join(names[addr], ", "))
		answered[addr] = err == nil
	}

	var mcu *RP2040
	var ads1115 *ADS1115
	ads1114 := map[uint16]*ADS1114{}
	var fw Version
	if cfg.Firmware != "" {
		v, err := ParseVersion(cfg.Firmware)
		if err != nil {
			r.problem("FIRMWARE: %v", err)
		}
		fw = v
	}
	reader := func(role string) (voltmeter, ranger, error) {
		s := l.ADC[role]
		if !answered[s.Address] {
			return nil, nil, fmt.Errorf("%s: %w at %s", role, ErrNoAnswer, hex(s.Address))
		}
		switch s.Driver {
		case DriverPico:
			if mcu == nil {
				var err error
				if mcu, err = NewRP2040(bus, s.Address, fw); err != nil {
					return nil, nil, err
				}
			}
			m, ch := mcu, s.Channel
			return func(ctx context.Context) (float64, error) { return m.ReadVolts(ctx, ch) }, nil, nil
		case DriverADS1115:
			if ads1115 == nil {
				var err error
				if ads1115, err = NewADS1115(bus, h.bus, s.Address, cfg.Clock); err != nil {
					return nil, nil, err
				}
			}
			a, ch := ads1115, s.Channel
			return func(ctx context.Context) (float64, error) { return a.ReadVolts(ctx, ch) }, a, nil
		case DriverADS1114:
			a := ads1114[s.Address]
			if a == nil {
				var err error
				if a, err = NewADS1114(bus, s.Address, cfg.Clock); err != nil {
					return nil, nil, err
				}
				ads1114[s.Address] = a
			}
			return a.ReadVolts, a, nil
		}
		return nil, nil, fmt.Errorf("%s: %w: driver %q", role, ErrLayout, s.Driver)
	}

	pds := &Photodiodes{clk: cfg.Clock, n: odSamples, span: odSpan, mainsHz: cfg.MainsHz}
	for _, role := range l.Photodiodes() {
		read, gain, err := reader(role)
		if err != nil {
			r.problem("photodiode %s: %v", role, err)
			continue
		}
		hum := l.ADC[role].Driver != DriverADS1114
		pds.chans = append(pds.chans, pdChannel{name: strings.TrimPrefix(role, "pd"), read: read, gain: gain, hum: hum})
	}
	if len(pds.chans) > 0 {
		h.board.Photodiodes = pds
	}
	if aux, _, err := reader("aux"); err != nil {
		r.problem("aux rail ADC: %v", err)
	} else {
		h.board.Rail = Rail{aux: aux}
	}
	if l.HasMCU() {
		if mcu == nil && answered[l.DACAddress] {
			var err error
			if mcu, err = NewRP2040(bus, l.DACAddress, fw); err != nil {
				r.problem("%v", err)
			}
		}
		if mcu != nil {
			h.board.LEDs, h.board.Firmware = mcu, mcu
			r.Firmware = mcu.firmware.String()
		}
	} else if answered[l.DACAddress] {
		h.board.LEDs = NewDAC43608(bus, l.DACAddress)
		r.Firmware = "none (HAT 1.0)"
	}
	if answered[l.TempAddress] {
		t := NewTMP1075(bus, l.TempAddress)
		if c, err := t.ReadCelsius(context.Background()); err != nil {
			r.problem("%v", err)
		} else {
			h.board.Thermometer = t
			r.Devices = append(r.Devices, Check{What: "heating PCB temperature", OK: true, Detail: fmt.Sprintf("%.2f °C", c)})
		}
	}
}

// openGPIO claims the PCB LED, button, hall sensor and every PWM output.
func (h *Hardware) openGPIO(cfg Config, l Layout, label string) {
	r := &h.report
	lines := cfg.Lines
	if lines == nil {
		var err error
		if lines, err = OpenGPIO(label); err != nil {
			r.problem("%v", err)
			return
		}
	}
	if l.HasMCU() {
		lines = guardedLines{Lines: lines, forbidden: swdPins, why: "the RP2040's SWD line on this HAT: never claimed"}
	}
	if pin, err := lines.Line(l.LEDPin); err == nil {
		led, err := NewStatusLED(pin)
		if err == nil {
			h.board.StatusLED = led
		}
		r.line(fmt.Sprintf("GPIO %d PCB LED", l.LEDPin), err, "output, low")
	} else {
		r.line(fmt.Sprintf("GPIO %d PCB LED", l.LEDPin), err, "")
	}
	if pin, err := lines.Line(l.ButtonPin); err == nil {
		b, err := NewButton(pin)
		if err == nil {
			h.board.Button = b
		}
		r.line(fmt.Sprintf("GPIO %d button", l.ButtonPin), err, "input, pull-down, both edges")
	} else {
		r.line(fmt.Sprintf("GPIO %d button", l.ButtonPin), err, "")
	}
	if pin, err := lines.Line(l.HallPin); err == nil {
		hall, err := NewHall(pin, cfg.Clock)
		if err == nil {
			h.board.Hall = hall
		}
		r.line(fmt.Sprintf("GPIO %d hall sensor", l.HallPin), err, "input, pull-up, falling edges")
	} else {
		r.line(fmt.Sprintf("GPIO %d hall sensor", l.HallPin), err, "")
	}
	h.board.PWM = map[string]hal.PWM{}
	chip := ""
	for _, ch := range sortedKeys(l.PWMToPin) {
		pin := l.PWMToPin[ch]
		role := cfg.Roles[ch]
		hz := float64(PumpHz)
		switch {
		case role == "stirring":
			hz = cfg.StirringHz
		case role == "heating" || (role == "" && ch == l.HeaterChannel):
			hz = HeaterHz
		}
		what := fmt.Sprintf("GPIO %d PWM channel %s", pin, ch)
		if role != "" {
			what += " (" + role + ")"
		}
		var out output
		var err error
		detail := ""
		if hw, ok := HardwarePWMPins[pin]; ok {
			if chip == "" {
				override := -1
				if cfg.PWMChipSet {
					override = cfg.PWMChip
				}
				if chip, err = FindPWMChip(cfg.PWMRoot, override); err == nil {
					r.PWMChip = chip
				}
			}
			if err == nil {
				out, err = NewSysfsPWM(chip, hw, hz)
			}
			detail = fmt.Sprintf("hardware pwm%d, %g Hz", hw, hz)
		} else {
			p, lerr := lines.Line(pin)
			if err = lerr; err == nil {
				out, err = NewSoftPWM(p, hz)
			}
			detail = fmt.Sprintf("software, %g Hz", hz)
			if hz >= 1000 {
				cfg.Log.Warn("very high frequency with software PWM", "channel", ch, "hz", hz)
			}
		}
		r.line(what, err, detail)
		if err == nil {
			h.board.PWM[ch] = out
			h.release = append(h.release, out)
		}
	}
}

// output is a PWM channel as the board holds it: settable, re-timeable, releasable.
type output interface {
	hal.FrequencyPWM
	hal.Releaser
}
