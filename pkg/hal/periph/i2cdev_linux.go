//go:build linux

package periph

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

const (
	ioctlI2CRDWR = 0x0707 // I2C_RDWR: a combined transaction of several messages
	i2cMsgRead   = 0x0001 // I2C_M_RD
)

// i2cMsg is struct i2c_msg; Go's alignment of buf matches C's on 32 and 64 bits.
type i2cMsg struct {
	addr, flags, len uint16
	buf              uintptr
}

type i2cRDWR struct {
	msgs  uintptr
	nmsgs uint32
}

// devBus is /dev/i2c-N driven with I2C_RDWR ioctls: one file, one transaction at a time.
type devBus struct {
	mu sync.Mutex
	f  *os.File
}

// OpenBus opens the kernel's I²C bus n (1 on every Pi with a HAT).
func OpenBus(n int) (Bus, error) {
	f, err := os.OpenFile(fmt.Sprintf("/dev/i2c-%d", n), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open i2c bus %d (is dtparam=i2c_arm=on set, and the user in group i2c?): %w", n, err)
	}
	return &devBus{f: f}, nil
}

func (b *devBus) Tx(addr uint16, w, r []byte) error {
	var msgs [2]i2cMsg
	n := 0
	if len(w) > 0 {
		msgs[n] = i2cMsg{addr: addr, len: uint16(len(w)), buf: uintptr(unsafe.Pointer(&w[0]))}
		n++
	}
	if len(r) > 0 {
		msgs[n] = i2cMsg{addr: addr, flags: i2cMsgRead, len: uint16(len(r)), buf: uintptr(unsafe.Pointer(&r[0]))}
		n++
	}
	if n == 0 {
		return nil
	}
	err := b.rdwr(msgs[:n])
	runtime.KeepAlive(w) // the kernel read them through the uintptrs above
	runtime.KeepAlive(r)
	return err
}

// Probe mirrors i2cdetect: a zero-length write, except a one-byte read where a write could
// change an EEPROM's pointer (0x30–0x37, 0x50–0x5F).
func (b *devBus) Probe(addr uint16) error {
	msg := i2cMsg{addr: addr}
	var one [1]byte
	if probeByRead(addr) {
		msg = i2cMsg{addr: addr, flags: i2cMsgRead, len: 1, buf: uintptr(unsafe.Pointer(&one[0]))}
	}
	err := b.rdwr([]i2cMsg{msg})
	runtime.KeepAlive(&one)
	if err != nil {
		return fmt.Errorf("probe %s: %w: %w", hex(addr), ErrNoAnswer, err)
	}
	return nil
}

func (b *devBus) rdwr(msgs []i2cMsg) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.f == nil {
		return ErrClosed
	}
	data := i2cRDWR{msgs: uintptr(unsafe.Pointer(&msgs[0])), nmsgs: uint32(len(msgs))}
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, b.f.Fd(), ioctlI2CRDWR, uintptr(unsafe.Pointer(&data)))
	runtime.KeepAlive(msgs)
	if errno != 0 {
		return errno
	}
	return nil
}

func (b *devBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	return err
}
