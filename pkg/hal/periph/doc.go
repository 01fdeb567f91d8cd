// Package periph is the hardware layer for a real Pioreactor HAT on a Raspberry Pi (3, 4, 5,
// Zero 2 W), built on periph.io. It is the only importer of periph.io: what it hands out are
// the small interfaces of pkg/hal, gathered in a hal.Board by Open.
//
// Drivers take a bus (i2c.Bus) or a line (gpio.PinIO), never a board, and are tested with
// periph's i2ctest.Playback register scripts and gpiotest pins:
//   - identity.go, layout.go: who we are (device tree) and how the HAT is wired (the
//     hardware YAML, per-revision defaults embedded, with the address-collision check);
//   - bus.go, i2cdev_linux.go: /dev/i2c-1 and a presence probe that really addresses the
//     device (periph's Tx(nil, nil) never touches the bus);
//   - rp2040.go, ads1114.go, ads1115.go, dac43608.go, tmp1075.go: the I²C chips;
//   - gpio.go, hall.go, button.go, softpwm.go, hwpwm.go: GPIO through the character device
//     (chip by label, line by offset; never periph's bcm283x driver, which writes the wrong
//     registers on a Pi 5), software PWM and the kernel's sysfs PWM for GPIO 12/13;
//   - power.go: the aux rail and the Pi's under-voltage flag.
//
// Invariants: a PWM output is driven low when it is released and before its period changes;
// GPIO 24 and 25 are never claimed on HAT ≥ 1.1 (the RP2040's SWD lines); every wait on a
// GPIO edge has a positive timeout.
package periph
