//go:build !linux

package periph

import "errors"

// OpenBus needs Linux's i2c-dev.
func OpenBus(n int) (Bus, error) { return nil, errors.New("i2c: only on Linux") }
