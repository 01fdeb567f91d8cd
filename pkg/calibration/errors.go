package calibration

import "errors"

var (
	// ErrNotFound: no calibration file of that device and name (or no such device).
	ErrNotFound = errors.New("calibration not found")
	// ErrInvalid: a calibration (file or value) does not follow the format of docs/profiles.md, "Calibration types".
	ErrInvalid = errors.New("invalid calibration")
	// ErrBadName: a device or calibration name is not a single safe file-name component.
	ErrBadName = errors.New("invalid name")
	// ErrNoSolution: the curve never reaches the requested y (NoSolutionsFound).
	ErrNoSolution = errors.New("no solution")
	// ErrBelowDomain: the only inverse lies below the recorded x range (bounds enforced).
	ErrBelowDomain = errors.New("solution below domain")
	// ErrAboveDomain: the only inverse lies above the recorded x range (bounds enforced).
	ErrAboveDomain = errors.New("solution above domain")
)
