package periph

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

var ads1115Here = probeSet{ADS1115Addr: true}

func TestADS1115SingleShot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ch     int
		config []byte
	}{{0, []byte{0xC3, 0x83}}, {1, []byte{0xD3, 0x83}}, {2, []byte{0xE3, 0x83}}, {3, []byte{0xF3, 0x83}}} {
		t.Run(string(rune('0'+tc.ch)), func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				{Addr: ADS1115Addr, W: append([]byte{0x01}, tc.config...)},
				{Addr: ADS1115Addr, W: []byte{0x01}, R: []byte{tc.config[0] &^ 0x80, 0x83}}, // converting
				{Addr: ADS1115Addr, W: []byte{0x01}, R: []byte{tc.config[0], 0x83}},         // done
				{Addr: ADS1115Addr, W: []byte{0x00}, R: []byte{0x12, 0x34}},
			}}
			a, err := NewADS1115(bus, ads1115Here, ADS1115Addr, clk)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := a.ReadRaw(bg, tc.ch)
			if err != nil || raw != 0x1234 {
				t.Fatalf("ReadRaw = %#x, %v", raw, err)
			}
			played(t, bus)
		})
	}
}

func TestADS1115Failures(t *testing.T) {
	t.Parallel()
	t.Run("absent at construction", func(t *testing.T) {
		t.Parallel()
		if _, err := NewADS1115(&i2ctest.Playback{}, probeSet{}, ADS1115Addr, newFakeClock()); !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a conversion that never finishes times out", func(t *testing.T) {
		t.Parallel()
		ops := []i2ctest.IO{{Addr: ADS1115Addr, W: []byte{0x01, 0xD3, 0x83}}}
		for range 101 { // one poll per millisecond until the 100 ms deadline, then one more
			ops = append(ops, i2ctest.IO{Addr: ADS1115Addr, W: []byte{0x01}, R: []byte{0x53, 0x83}})
		}
		bus := &i2ctest.Playback{Ops: ops}
		a, _ := NewADS1115(bus, ads1115Here, ADS1115Addr, newFakeClock())
		if _, err := a.ReadRaw(bg, 1); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		played(t, bus)
	})
	t.Run("NACK while polling", func(t *testing.T) {
		t.Parallel()
		bus := &nackBus{Playback: &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: ADS1115Addr, W: []byte{0x01, 0xD3, 0x83}}}}, at: 1}
		a, _ := NewADS1115(bus, ads1115Here, ADS1115Addr, newFakeClock())
		if _, err := a.ReadRaw(bg, 1); !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("clipped reading and bad input", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{
			{Addr: ADS1115Addr, W: []byte{0x01, 0xF3, 0x83}},
			{Addr: ADS1115Addr, W: []byte{0x01}, R: []byte{0xF3, 0x83}},
			{Addr: ADS1115Addr, W: []byte{0x00}, R: []byte{0x80, 0x00}},
		}}
		a, _ := NewADS1115(bus, ads1115Here, ADS1115Addr, newFakeClock())
		if _, err := a.ReadVolts(bg, 3); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("clipped: %v", err)
		}
		if _, err := a.ReadRaw(bg, 4); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("input 4: %v", err)
		}
		played(t, bus)
	})
	t.Run("the gain is recorded (the original forgot)", func(t *testing.T) {
		t.Parallel()
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{
			{Addr: ADS1115Addr, W: []byte{0x01, 0xD5, 0x83}}, // PGA 2 (gain 2) in bits 11–9
			{Addr: ADS1115Addr, W: []byte{0x01}, R: []byte{0xD5, 0x83}},
			{Addr: ADS1115Addr, W: []byte{0x00}, R: []byte{0x40, 0x00}},
		}}
		a, _ := NewADS1115(bus, ads1115Here, ADS1115Addr, newFakeClock())
		if err := a.SetGain(2); err != nil || a.Gain() != 2 {
			t.Fatalf("SetGain: %v, gain %v", err, a.Gain())
		}
		if v, err := a.ReadVolts(bg, 1); err != nil || v != 16384.0/32767*2.048 {
			t.Fatalf("ReadVolts = %v, %v", v, err)
		}
		played(t, bus)
	})
}
