// Package hal is the hardware seam: small device interfaces in SI units, sized to the jobs that
// use them, and Board, the set of devices one Pioreactor unit has. hal/sim implements them with a
// simulated bioreactor, hal/periph with real HAT hardware; the two are siblings and jobs see only
// these interfaces.
//
// Invariants: duty cycles and intensities are percent in [0, 100]; anything that blocks takes a
// context; a device that stops answering returns an error, never a made-up value.
package hal
