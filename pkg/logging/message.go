package logging

import (
	"log/slog"
	"regexp"
	"strconv"
	"strings"
)

// Routing attrs: where a record goes, never part of its text.
const (
	KeyUnit       = "unit"
	KeyExperiment = "experiment"
	KeyJob        = "job"
	KeyTask       = "task"
	KeySource     = "source"
	KeyErr        = "err"

	defaultTask   = "pioreactord"
	defaultSource = "app"
)

type routing struct{ unit, experiment, task, source string }

func isRouting(key string) bool {
	switch key {
	case KeyUnit, KeyExperiment, KeyJob, KeyTask, KeySource:
		return true
	}
	return false
}

// route reads the top-level routing attrs; a later attr (the record's own) wins over an
// earlier one (from With).
func route(attrs []slog.Attr) routing {
	var r routing
	var job string
	for _, a := range attrs {
		switch a.Key {
		case KeyUnit:
			r.unit = a.Value.String()
		case KeyExperiment:
			r.experiment = a.Value.String()
		case KeyJob:
			job = a.Value.String()
		case KeyTask:
			r.task = a.Value.String()
		case KeySource:
			r.source = a.Value.String()
		}
	}
	if r.task == "" {
		r.task = job
	}
	if r.task == "" {
		r.task = defaultTask
	}
	if r.source == "" {
		r.source = defaultSource
	}
	return r
}

// appendFlat resolves a and appends it, groups flattened into "group.key" under prefix
// (slog's rules: empty attrs are dropped, an unnamed group is inlined).
func appendFlat(dst []slog.Attr, prefix string, a slog.Attr) []slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return dst
	}
	if a.Value.Kind() != slog.KindGroup {
		return append(dst, slog.Attr{Key: prefix + a.Key, Value: a.Value})
	}
	if a.Key != "" {
		prefix += a.Key + "."
	}
	for _, g := range a.Value.Group() {
		dst = appendFlat(dst, prefix, g)
	}
	return dst
}

// renderMessage is the MQTT text of a record: the message, then ": <err>" for each top-level
// err attr, then " key=value" for every other non-routing attr, cleaned as the reference does.
// Each attr value is cut to MaxAttrBytes and the whole to MaxMessageBytes.
func renderMessage(msg string, attrs []slog.Attr) string {
	var b strings.Builder
	b.WriteString(truncate(msg, MaxMessageBytes-noteRoom)) // with its note, within the cap
	for _, a := range attrs {
		if a.Key == KeyErr {
			b.WriteString(": ")
			b.WriteString(truncate(a.Value.String(), MaxAttrBytes))
		}
	}
	for _, a := range attrs {
		if a.Key == KeyErr || isRouting(a.Key) {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(truncate(a.Key, MaxAttrBytes))
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(truncate(a.Value.String(), MaxAttrBytes)))
	}
	return truncate(clean(b.String()), MaxMessageBytes)
}

// quoteIfNeeded keeps key=value pairs unambiguous when a value has spaces or quotes.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"=") {
		return strconv.Quote(s)
	}
	return s
}

// ansi matches ANSI escape sequences (CSI sequences and two-byte escapes).
var ansi = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])`)

// clean makes text safe for the UI as the reference does: valid UTF-8, CR/CRLF → LF, no
// ANSI escapes (colourised output of a subprocess would otherwise show as garbage).
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return ansi.ReplaceAllString(s, "")
}
