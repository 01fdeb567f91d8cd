// Package periph is the hardware layer for a real Pioreactor HAT on a Raspberry Pi, built on
// periph.io. Drivers take a bus (i2c.Bus), never a board, and periph types never leave this
// package: what it hands out are the small interfaces of pkg/hal.
//
// So far it has the TMP1075 driver of the heating PCB; the ADCs, the LED DAC, PWM and GPIO
// (spec/hardware.md) are the hardware issue's work, and `pioreactord` without --sim refuses
// to run a worker until they exist.
package periph
