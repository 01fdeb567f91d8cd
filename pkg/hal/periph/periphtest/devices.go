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

// ADS1115 emulates HAT 1.0's ADC: a single-shot conversion of the input the config names,
// done at once (the OS bit reads 1 on the first poll).
type ADS1115 struct {
	mu     sync.Mutex
	ptr    byte
	config uint16
	Volts  [4]float64
}

// Tx implements Device.
func (d *ADS1115) Tx(w, r []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(w) > 0 {
		d.ptr = w[0]
	}
	if len(w) == 3 && d.ptr == 1 {
		d.config = uint16(w[1])<<8 | uint16(w[2])
	}
	if len(r) == 2 {
		v := d.config | 0x8000 // conversion done
		if d.ptr == 0 {
			ch := int(d.config>>12)&7 - 4
			fsr := []float64{6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256}[(d.config>>9)&7]
			v = uint16(int16(math.Max(-32768, math.Min(32767, d.Volts[ch]/fsr*32767))))
		}
		r[0], r[1] = byte(v>>8), byte(v)
	}
	return nil
}

// DAC43608 emulates HAT 1.0's LED driver: the device config and the data registers.
type DAC43608 struct {
	mu     sync.Mutex
	ptr    byte
	Config uint16          // 0x01; starts with every channel powered down
	Data   map[byte]uint16 // 0x08–0x0F
}

// NewDAC43608 is the chip after reset.
func NewDAC43608() *DAC43608 { return &DAC43608{Config: 0x01FF, Data: map[byte]uint16{}} }

// Tx implements Device.
func (d *DAC43608) Tx(w, r []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(w) > 0 {
		d.ptr = w[0]
	}
	if len(w) == 3 {
		v := uint16(w[1])<<8 | uint16(w[2])
		if d.ptr == 1 {
			d.Config = v
		} else {
			d.Data[d.ptr] = v
		}
	}
	if len(r) == 2 {
		v := d.Config
		if d.ptr != 1 {
			v = d.Data[d.ptr]
		}
		r[0], r[1] = byte(v>>8), byte(v)
	}
	return nil
}

// On says whether LED channel ch (0 = A) is powered up, and its code.
func (d *DAC43608) On(ch int) (bool, uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Config&(1<<ch) == 0, d.Data[byte(8+ch)] >> 4
}
