// Package session runs guided calibrations: a protocol is a short conversation of steps (read
// this, fill that in, press run), some of which drive the hardware through a Rig, ending in a
// fitted curve, its residuals, and a calibration file saved (and made active) only if the user
// says so.
//
// Invariants:
//   - nothing is written to the calibration store before the final step is confirmed, so an
//     aborted or failed session leaves no trace but its own record;
//   - one input at a time per session (hardware steps may take minutes);
//   - the Rig is the only way to the hardware, and it goes through the unit's jobs.
package session
