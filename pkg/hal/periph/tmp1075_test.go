package periph

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

func TestTMP1075(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		read []byte
		want float64
	}{
		{"30.5 °C", []byte{0x1E, 0x80}, 30.5},
		{"0.0625 °C", []byte{0x00, 0x10}, 0.0625},
		{"80 °C", []byte{0x50, 0x00}, 80},
		{"-0.25 °C is sign-extended", []byte{0xFF, 0xC0}, -0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: TMP1075Addr, W: []byte{0x00}, R: tc.read}}}
			got, err := NewTMP1075(bus, TMP1075Addr).ReadCelsius(context.Background())
			if err != nil || got != tc.want {
				t.Fatalf("ReadCelsius = %v, %v; want %v", got, err, tc.want)
			}
			if err := bus.Close(); err != nil {
				t.Fatalf("unplayed register script: %v", err)
			}
		})
	}
}

func TestTMP1075Failures(t *testing.T) {
	t.Parallel()
	t.Run("out of range: 127.9 °C is not a temperature this sensor reads", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: TMP1075Addr, W: []byte{0x00}, R: []byte{0x7F, 0xF0}}}}
		if _, err := NewTMP1075(bus, TMP1075Addr).ReadCelsius(context.Background()); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("err = %v, want ErrOutOfRange", err)
		}
	})
	t.Run("NACK", func(t *testing.T) {
		t.Parallel()
		bus := &nackBus{Playback: &i2ctest.Playback{}, at: 0}
		if _, err := NewTMP1075(bus, TMP1075Addr).ReadCelsius(context.Background()); !errors.Is(err, hal.ErrNotPresent) {
			t.Fatalf("err = %v, want ErrNotPresent", err)
		}
	})
}

func TestTMP1075Absent(t *testing.T) {
	t.Parallel()
	bus := &i2ctest.Playback{DontPanic: true} // no scripted answer: the device does not ACK
	_, err := NewTMP1075(bus, TMP1075Addr).ReadCelsius(context.Background())
	if !errors.Is(err, hal.ErrNotPresent) {
		t.Fatalf("err = %v, want ErrNotPresent", err)
	}
}
