package jobs

import "errors"

var (
	// ErrUnknownAutomation: automation_name names no automation of the family.
	ErrUnknownAutomation = errors.New("unknown automation")
	// ErrRequiredData: an automation's input (a producing job, a first value, a fresh value)
	// is missing; run_once reports it as an ErrorOccurred event with a warning.
	ErrRequiredData = errors.New("required data missing")
)
