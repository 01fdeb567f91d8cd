package periph

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestDAC43608(t *testing.T) {
	t.Parallel()
	const a = DAC43608Addr
	for _, tc := range []struct {
		name    string
		channel string
		percent float64
		config  []byte // device config read back
		ops     []i2ctest.IO
	}{
		{"A at 50 %: power up, then code 128 in bits 11–4", "A", 50, []byte{0x00, 0xFF}, []i2ctest.IO{
			{Addr: a, W: []byte{0x01, 0x00, 0xFE}}, {Addr: a, W: []byte{0x08, 0x08, 0x00}}}},
		{"D full", "D", 100, []byte{0x01, 0x00}, []i2ctest.IO{
			{Addr: a, W: []byte{0x01, 0x00, 0x00}}, {Addr: a, W: []byte{0x0B, 0x0F, 0xF0}}}},
		{"C off: power down only", "C", 0, []byte{0x00, 0x00}, []i2ctest.IO{
			{Addr: a, W: []byte{0x01, 0x00, 0x04}}}},
		{"B off keeps the others' bits", "B", 0, []byte{0x00, 0xF1}, []i2ctest.IO{
			{Addr: a, W: []byte{0x01, 0x00, 0xF3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := &i2ctest.Playback{Ops: append([]i2ctest.IO{{Addr: a, W: []byte{0x01}, R: tc.config}}, tc.ops...)}
			if err := NewDAC43608(bus, a).SetIntensity(tc.channel, tc.percent); err != nil {
				t.Fatal(err)
			}
			played(t, bus)
		})
	}
}

func TestDAC43608Failures(t *testing.T) {
	t.Parallel()
	if err := NewDAC43608(&i2ctest.Playback{DontPanic: true}, DAC43608Addr).SetIntensity("A", 10); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("absent: %v", err)
	}
	bus := &nackBus{Playback: &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: DAC43608Addr, W: []byte{0x01}, R: []byte{0, 0xFF}}}}, at: 1}
	if err := NewDAC43608(bus, DAC43608Addr).SetIntensity("A", 10); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("NACK on the config write: %v", err)
	}
	empty := &i2ctest.Playback{}
	if err := NewDAC43608(empty, DAC43608Addr).SetIntensity("A", 120); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("120 %%: %v", err)
	}
	played(t, empty)
}
