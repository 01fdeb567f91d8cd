package logging

import (
	"fmt"
	"log/slog"
	"strings"
)

// The reference's levels on slog's scale. NOTICE (user-facing success messages) and CRITICAL
// have no slog constant; log them with logger.Log(ctx, LevelNotice, msg, ...).
const (
	LevelDebug    = slog.LevelDebug
	LevelInfo     = slog.LevelInfo
	LevelNotice   = slog.Level(2)
	LevelWarning  = slog.LevelWarn
	LevelError    = slog.LevelError
	LevelCritical = slog.Level(12)
)

// LevelName is the reference's name of the named level at or below l (slog allows levels in
// between, e.g. Info+1, which the wire cannot express).
func LevelName(l slog.Level) string {
	switch {
	case l < LevelInfo:
		return "DEBUG"
	case l < LevelNotice:
		return "INFO"
	case l < LevelWarning:
		return "NOTICE"
	case l < LevelError:
		return "WARNING"
	case l < LevelCritical:
		return "ERROR"
	}
	return "CRITICAL"
}

// ParseLevel reads a level name as written in config ([logging] console_log_level), in any
// case; WARN is accepted for WARNING.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return LevelDebug, nil
	case "INFO":
		return LevelInfo, nil
	case "NOTICE":
		return LevelNotice, nil
	case "WARNING", "WARN":
		return LevelWarning, nil
	case "ERROR":
		return LevelError, nil
	case "CRITICAL":
		return LevelCritical, nil
	}
	return LevelInfo, fmt.Errorf("unknown log level %q (DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL)", s)
}
