package session

import "errors"

var (
	// ErrNotFound: no session with that id.
	ErrNotFound = errors.New("calibration session not found")
	// ErrBadInput: the inputs do not fit the current step (the session is unchanged).
	ErrBadInput = errors.New("invalid inputs")
	// ErrUnknownProtocol: no protocol of that name for that device.
	ErrUnknownProtocol = errors.New("unknown calibration protocol")
	// ErrClosed: the session is complete, failed or aborted.
	ErrClosed = errors.New("calibration session is over")
)
