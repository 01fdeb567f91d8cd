package periph

import (
	"errors"
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestADS1114Config(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		gain Gain
		word []byte
	}{{Gain23, []byte{0x00, 0x83}}, {1, []byte{0x02, 0x83}}, {2, []byte{0x04, 0x83}}, {4, []byte{0x06, 0x83}}, {8, []byte{0x08, 0x83}}, {16, []byte{0x0A, 0x83}}} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				{Addr: 0x48, W: []byte{0x01, 0x02, 0x83}}, // gain 1 at construction, continuous
				{Addr: 0x48, W: append([]byte{0x01}, tc.word...)},
			}}
			a, err := NewADS1114(bus, 0x48, newFakeClock())
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SetGain(tc.gain); err != nil {
				t.Fatal(err)
			}
			played(t, bus)
		})
	}
}

func TestADS1114Read(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		read []byte
		want float64
		err  error
	}{
		{"half scale at gain 1", []byte{0x40, 0x00}, 16384.0 / 32767 * 4.096, nil},
		{"negative, big-endian signed", []byte{0xFF, 0xFE}, -2.0 / 32767 * 4.096, nil},
		{"clipped at full scale is out of range", []byte{0x7F, 0xFF}, 4.096, ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				{Addr: 0x4A, W: []byte{0x01, 0x02, 0x83}},
				{Addr: 0x4A, W: []byte{0x00}, R: tc.read},
			}}
			a, err := NewADS1114(bus, 0x4A, clk)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.ReadVolts(bg)
			if !errors.Is(err, tc.err) || math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("ReadVolts = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
			// The read right after the config write waited one conversion (1/128 s).
			if s := clk.slept(); len(s) != 1 || s[0] != adsPeriod {
				t.Fatalf("slept %v, want [%v]", s, adsPeriod)
			}
			played(t, bus)
		})
	}
}

func TestADS1114Failures(t *testing.T) {
	t.Parallel()
	if _, err := NewADS1114(&i2ctest.Playback{DontPanic: true}, 0x4B, newFakeClock()); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("absent: %v", err)
	}
	bus := &nackBus{Playback: &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x48, W: []byte{0x01, 0x02, 0x83}}}}, at: 1}
	a, err := NewADS1114(bus, 0x48, newFakeClock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadRaw(bg); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("NACK: %v", err)
	}
	if err := a.SetGain(3); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("gain 3: %v", err)
	}
}

func TestGainFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		volts float64
		want  Gain
	}{{5, Gain23}, {3.0, 1}, {1.0, 2}, {0.5, 4}, {0.3, 8}, {0.1, 16}, {0, 16}, {7, Gain23}} {
		if got := GainFor(tc.volts); got != tc.want {
			t.Errorf("GainFor(%v) = %v, want %v", tc.volts, got, tc.want)
		}
	}
}
