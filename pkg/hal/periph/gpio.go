package periph

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

// Lines hands out GPIO lines by offset on the header's chip (offset = BCM number).
type Lines interface {
	Line(offset int) (gpio.PinIO, error)
}

// guardedLines refuses the lines this HAT reserves (the RP2040's SWD pins), whatever asks.
type guardedLines struct {
	Lines
	forbidden []int
	why       string
}

func (g guardedLines) Line(offset int) (gpio.PinIO, error) {
	for _, f := range g.forbidden {
		if f == offset {
			return nil, fmt.Errorf("GPIO %d: %s", offset, g.why)
		}
	}
	return g.Lines.Line(offset)
}

var initGPIO = sync.OnceValue(func() error {
	// Only gpioioctl is registered in this binary: periph's bcm283x driver would map BCM2711
	// registers on a Pi 5, and its sysfs GPIO driver's numeric names collide with line names.
	_, err := driverreg.Init()
	return err
})

// chipLines is a gpioioctl chip chosen by its label.
type chipLines struct{ chip *gpioioctl.GPIOChip }

// OpenGPIO opens the GPIO character device whose label is label ("pinctrl-rp1" on a Pi 5).
func OpenGPIO(label string) (Lines, error) {
	if err := initGPIO(); err != nil {
		return nil, fmt.Errorf("gpio: %w", err)
	}
	var seen []string
	for _, c := range gpioioctl.Chips {
		if c.Label() == label {
			return chipLines{c}, nil
		}
		seen = append(seen, c.Name()+"="+c.Label())
	}
	sort.Strings(seen)
	return nil, fmt.Errorf("no GPIO chip labelled %q (found: %s; is the user in group gpio?)", label, strings.Join(seen, ", "))
}

func (c chipLines) Line(offset int) (gpio.PinIO, error) {
	l := c.chip.ByNumber(offset)
	if l == nil {
		return nil, fmt.Errorf("GPIO %d: no such line on %s", offset, c.chip.Label())
	}
	return l, nil
}
