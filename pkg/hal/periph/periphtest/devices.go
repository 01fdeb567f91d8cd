package periphtest

import (
	"errors"
	"math"
	"sync"
)

// RP2040 emulates the HAT MCU's firmware 0.5 register map, quirks included: the pointer
// persists between transactions, extra written bytes rewrite the same LED, pointers 0–3 and
// above 8 read FF FF.
type RP2040 struct {
	mu      sync.Mutex
	ptr     byte
	LED     [4]byte
	ADC     [4]uint16
	Version [2]byte // minor, major
}

// NewRP2040 is firmware 0.5 with the aux rail at 5 V (aux input at 0.67 V).
func NewRP2040() *RP2040 {
	r := &RP2040{Version: [2]byte{5, 0}}
	r.SetVolts(1, 5*0.134)
	return r
}

// Tx implements Device.
func (d *RP2040) Tx(w, r []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(w) > 0 {
		d.ptr = w[0]
		for _, b := range w[1:] {
			if d.ptr < 4 {
				d.LED[d.ptr] = b
			}
		}
	}
	var word [2]byte
	switch {
	case d.ptr >= 4 && d.ptr < 8:
		v := d.ADC[d.ptr-4]
		word = [2]byte{byte(v), byte(v >> 8)}
	case d.ptr == 8:
		word = d.Version
	default:
		word = [2]byte{0xFF, 0xFF}
	}
	for i := range r {
		r[i] = word[i%2]
	}
	return nil
}

// SetVolts sets ADC input i to volts at the pin (firmware ≥ 0.4 scale).
func (d *RP2040) SetVolts(i int, volts float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ADC[i] = uint16(volts / 3.3 * 4095 * 32)
}

// Intensity is LED channel i's code (0–255).
func (d *RP2040) Intensity(i int) byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.LED[i]
}

// ADS1114 emulates one optics ADC in continuous mode.
type ADS1114 struct {
	mu     sync.Mutex
	ptr    byte
	Config uint16
	Volts  float64 // at the input
}

// Tx implements Device.
func (d *ADS1114) Tx(w, r []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(w) > 0 {
		d.ptr = w[0]
	}
	if len(w) == 3 && d.ptr == 1 {
		d.Config = uint16(w[1])<<8 | uint16(w[2])
	}
	if len(r) == 2 {
		v := d.Config
		if d.ptr == 0 {
			fsr := []float64{6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256}[(d.Config>>9)&7]
			v = uint16(int16(math.Max(-32768, math.Min(32767, d.Volts/fsr*32767))))
		}
		r[0], r[1] = byte(v>>8), byte(v)
	}
	return nil
}

// TMP1075 emulates the heating PCB's sensor. Panic, when set, makes the next read panic: a
// job that crashes while it holds the heater.
type TMP1075 struct {
	mu      sync.Mutex
	Celsius float64
	panicky bool
}

// SetCelsius sets the temperature.
func (d *TMP1075) SetCelsius(c float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Celsius = c
}

// PanicOnNextRead arms the panic.
func (d *TMP1075) PanicOnNextRead() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.panicky = true
}

// Tx implements Device.
func (d *TMP1075) Tx(w, r []byte) error {
	d.mu.Lock()
	p := d.panicky
	d.panicky = false
	c := d.Celsius
	d.mu.Unlock()
	if p {
		panic("periphtest: TMP1075 read armed to panic")
	}
	if len(r) != 2 {
		return errors.New("tmp1075: want a 2-byte read")
	}
	v := uint16(int16(math.Round(c/0.0625))) << 4
	r[0], r[1] = byte(v>>8), byte(v)
	return nil
}
