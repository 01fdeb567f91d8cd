package logging

import (
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// Caps on what one record may put into a log line or an MQTT log message (and from there
// into the leader's store): a payload echoed into a log must not make a 100 MB row.
const (
	MaxMessageBytes = 4 << 10 // a record's rendered text: message, err and attrs
	MaxAttrBytes    = 1 << 10 // one attr value

	noteRoom = 64 // room for truncate's note, so that a cut message is not cut again
)

// truncate cuts s to at most max bytes, on a rune boundary, and says how long it was.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (truncated, %d bytes)", s[:cut], len(s))
}

// capAttr bounds an attr value for the text sink. Only strings and values of unknown kind
// (errors, byte slices, structs) can be long; they are rendered once here when they are.
func capAttr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) > MaxAttrBytes {
			a.Value = slog.StringValue(truncate(s, MaxAttrBytes))
		}
	case slog.KindAny:
		if s := a.Value.String(); len(s) > MaxAttrBytes {
			a.Value = slog.StringValue(truncate(s, MaxAttrBytes))
		}
	}
	return a
}
