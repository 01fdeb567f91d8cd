package config

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrMissing is wrapped by reads of a key that is not set and has no fallback (Get).
var ErrMissing = errors.New("not found in configuration")

// ValidationError is a problem in config text: syntax, duplicates, required fields. Msg is
// the user-facing sentence of docs/http.md, "Config files"; Line is the 1-based line at which the problem
// shows (0 when it has no single line, e.g. a missing section), Detail what the parser said.
type ValidationError struct {
	Line   int
	Msg    string
	Detail string
	file   string // "shared" or "unit" when known, for Load's message
	// section and key name the value a typed check refused, to find its line.
	section, key string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Line > 0 && e.Detail != "":
		return fmt.Sprintf("%s (line %d: %s)", e.Msg, e.Line, e.Detail)
	case e.Line > 0:
		return fmt.Sprintf("%s (line %d)", e.Msg, e.Line)
	case e.Detail != "":
		return fmt.Sprintf("%s (%s)", e.Msg, e.Detail)
	}
	return e.Msg
}

// missingFileError is the spec's message for an absent config.ini; it unwraps to
// fs.ErrNotExist so callers can tell "not provisioned yet" from a broken file.
type missingFileError struct{ path string }

func (e *missingFileError) Error() string {
	return "Configuration file at " + e.path + " is missing. Has it completed initializing? " +
		"Does it need to connect to a leader? Is the path (GLOBAL_CONFIG / DOT_PIOREACTOR) right?"
}

func (e *missingFileError) Unwrap() error { return fs.ErrNotExist }
