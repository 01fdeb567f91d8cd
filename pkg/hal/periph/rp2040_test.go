package periph

import (
	"errors"
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

const mcu = RP2040Addr

func fw05() i2ctest.IO { return i2ctest.IO{Addr: mcu, W: []byte{0x08}, R: []byte{0x05, 0x00}} }

func TestRP2040LEDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		channel string
		percent float64
		want    []byte
	}{
		{"A at 50 % is code 128 (half to even)", "A", 50, []byte{0x00, 128}},
		{"B off", "B", 0, []byte{0x01, 0}},
		{"C at 10 %", "C", 10, []byte{0x02, 26}},
		{"D full", "D", 100, []byte{0x03, 255}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{fw05(), {Addr: mcu, W: tc.want}}}
			r, err := NewRP2040(bus, mcu, Version{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.SetIntensity(tc.channel, tc.percent); err != nil {
				t.Fatal(err)
			}
			played(t, bus)
		})
	}
}

// No auto-increment in the firmware: four LEDs are four transactions, never one burst.
func TestRP2040LEDsOneTransactionEach(t *testing.T) {
	t.Parallel()
	ops := []i2ctest.IO{fw05()}
	for i := range 4 {
		ops = append(ops, i2ctest.IO{Addr: mcu, W: []byte{byte(i), 51}})
	}
	bus := &i2ctest.Playback{Ops: ops}
	r, err := NewRP2040(bus, mcu, Version{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range hal.LEDChannels {
		if err := r.SetIntensity(ch, 20); err != nil {
			t.Fatal(err)
		}
	}
	played(t, bus)
}

func TestRP2040ADC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		version []byte // minor, major
		input   int
		read    []byte // little-endian
		want    float64
		err     error
	}{
		{"firmware 0.5 scales by 32", []byte{5, 0}, 1, []byte{0x00, 0x68}, 26624.0 / 4095 / 32 * 3.3, nil},
		{"firmware 0.3 scales by 16", []byte{3, 0}, 1, []byte{0x00, 0x68}, 26624.0 / 4095 / 16 * 3.3, nil},
		{"photodiode input 2, little-endian", []byte{5, 0}, 2, []byte{0x34, 0x12}, 0x1234 / 4095.0 / 32 * 3.3, nil},
		{"FF FF is an invalid pointer's answer, not a sample", []byte{5, 0}, 3, []byte{0xFF, 0xFF}, 0, ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				{Addr: mcu, W: []byte{0x08}, R: tc.version},
				{Addr: mcu, W: []byte{byte(4 + tc.input)}, R: tc.read},
			}}
			r, err := NewRP2040(bus, mcu, Version{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.ReadVolts(bg, tc.input)
			if !errors.Is(err, tc.err) || math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("ReadVolts = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
			played(t, bus)
		})
	}
}

func TestRP2040Failures(t *testing.T) {
	t.Parallel()
	t.Run("absent: nothing answers at 0x2C", func(t *testing.T) {
		t.Parallel()
		_, err := NewRP2040(&i2ctest.Playback{DontPanic: true}, mcu, Version{})
		if !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("err = %v, want ErrNoAnswer", err)
		}
	})
	t.Run("firmware too old to report a version reads FF FF", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: mcu, W: []byte{0x08}, R: []byte{0xFF, 0xFF}}}}
		if _, err := NewRP2040(bus, mcu, Version{}); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("err = %v, want ErrOutOfRange", err)
		}
	})
	t.Run("NACK on an LED write", func(t *testing.T) {
		t.Parallel()
		bus := &nackBus{Playback: &i2ctest.Playback{Ops: []i2ctest.IO{fw05()}}, at: 1}
		r, err := NewRP2040(bus, mcu, Version{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetIntensity("A", 10); !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("err = %v, want ErrNoAnswer", err)
		}
	})
	t.Run("FIRMWARE override skips the version read", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{}
		r, err := NewRP2040(bus, mcu, Version{0, 3})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := r.Firmware(bg); v != (hal.FirmwareVersion{Major: 0, Minor: 3}) || r.scale != 16 {
			t.Fatalf("firmware %v scale %v", v, r.scale)
		}
		played(t, bus)
	})
	t.Run("requests out of range never reach the bus", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{}
		r, _ := NewRP2040(bus, mcu, Version{0, 5})
		for _, err := range []error{r.SetIntensity("E", 1), r.SetIntensity("A", 101), r.SetIntensity("A", math.NaN())} {
			if !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("err = %v, want ErrOutOfRange", err)
			}
		}
		if _, err := r.ReadRaw(bg, 4); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("input 4: %v", err)
		}
		played(t, bus)
	})
}
