package profile

import "errors"

var (
	// ErrNoValue: a live lookup found no retained value (a `when` reads it as false).
	ErrNoValue = errors.New("does not exist")
	// ErrInvalid: the profile has error diagnostics and cannot run.
	ErrInvalid = errors.New("invalid experiment profile")
	// ErrBadFilename: a profile file name is not a plain .yaml/.yml file name.
	ErrBadFilename = errors.New("bad experiment profile file name")
	// ErrNotFound: no profile file of that name.
	ErrNotFound = errors.New("experiment profile not found")
	// ErrExists: a profile file of that name exists already.
	ErrExists = errors.New("experiment profile already exists")
)
