// Package calibration owns a unit's calibration files (docs/profiles.md, "Calibration files"): the tagged
// YAML format, the curves it carries (poly, natural cubic spline, Akima) with their forward
// evaluation and inverse (docs/algorithms.md, "Calibration curves"), and the per-device store with its active
// pointers.
//
// Invariants:
//   - a Calibration that decoded without error has passed Validate: its type is known, every
//     field its type requires is present, its curve is well formed;
//   - a bad file is an error naming the file, never a panic;
//   - device and calibration names are single file-name components, so a name can never reach
//     outside the store's directory;
//   - an active pointer is only set to a calibration whose file exists and decodes.
package calibration
