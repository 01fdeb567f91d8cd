package config

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/ini.v1"
)

// How ini.v1 is made to read configparser's dialect (docs/config.md, "INI dialect").
//
// Bridged by options: keys stay case-sensitive (the default); `=` and `:` delimit; no inline
// comments (IgnoreInlineComment); no backslash continuation, which configparser does not have
// (IgnoreContinuation); indented continuation lines (AllowPythonMultilineValues); bare keys
// (AllowBooleanKeys); surrounding quotes kept (PreserveSurroundedQuote).
//
// Bridged here, because ini.v1 has no option for it:
//   - continuation lines: ini.v1 keeps their indentation, \r and indented comment lines;
//     configparser strips each line and skips comment lines (cleanValue).
//   - keys before the first [section]: ini.v1 files them under DEFAULT, configparser refuses
//     the file (MissingSectionHeaderError); so do we (a zeroed or binary file lands here).
//   - duplicates: ini.v1 silently merges repeated sections and keys; the strict mode
//     reconstructs them from its shadow keys (parseStrict).
//   - line numbers: ini.v1 reports none; locate finds the first line at which a prefix of the
//     text fails the same check.
//   - interpolation and [DEFAULT] lookups: done on the merged layers (interpolate.go), since
//     ini.v1's own %(key)s expansion knows no %%, leaves unknown references in place and also
//     searches "parent" sections (a.b falls back to a), which configparser does not.
//
// Not bridged (rare, documented): a bare key reads "true" (configparser: None); a blank line
// ends a multi-line value (configparser keeps it when more indented lines follow); values
// wrapped in `…` or """…""" lose the quotes; a key named "-" becomes "#1", "#2"…; a repeated
// key whose every occurrence is empty is not reported as a duplicate.

const (
	msgSyntax       = "Incorrect syntax. Please fix and try again."
	msgDupSection   = "Duplicate section [%s] was found. Please fix and try again."
	msgDupOption    = "Duplicate option, `%s`, was found in section [%s]. Please fix and try again."
	defaultSection  = "DEFAULT" // configparser's default_section; ini.v1 uses the same name
	maxLocateTextSz = 4 << 20   // locating a line re-parses prefixes; skip it for absurd inputs
)

func loadOptions(shadows bool) ini.LoadOptions {
	return ini.LoadOptions{
		IgnoreInlineComment:        true,
		IgnoreContinuation:         true,
		AllowPythonMultilineValues: true,
		AllowBooleanKeys:           true,
		PreserveSurroundedQuote:    true,
		// Every [s] occurrence stays separate so we can see the implicit leading DEFAULT
		// section (keys before any header) and, in strict mode, repeated sections.
		AllowNonUniqueSections:     true,
		AllowShadows:               shadows,
		AllowDuplicateShadowValues: shadows,
		KeyValueDelimiters:         "=:",
	}
}

// Normalize replaces en and em dashes by '-', as the config editors do before validating and
// saving (pasted text from documents carries them into command-line-like values).
func Normalize(text []byte) []byte {
	s := strings.NewReplacer("\u2013", "-", "\u2014", "-").Replace(string(text))
	return []byte(s)
}

// parseText parses one file's text into an ordered layer. Strict refuses duplicate sections
// and keys (the editors), lenient lets the later occurrence win (the runtime loader).
func parseText(text []byte, strict bool) (*layer, error) {
	if !utf8.Valid(text) {
		line := 1 + bytes.Count(text[:firstInvalidUTF8(text)], []byte("\n"))
		return nil, &ValidationError{Line: line, Msg: msgSyntax, Detail: "not UTF-8 text"}
	}
	l, err := parseOnce(text, strict)
	if err == nil {
		if strict {
			if serr := scanStrict(text); serr != nil {
				return nil, serr
			}
		}
		return l, nil
	}
	if len(text) <= maxLocateTextSz {
		if n, perr := locate(text, strict); perr != nil {
			perr.Line = n
			return nil, perr
		}
	}
	return nil, err
}

// parseOnce runs ini.v1 and our checks; its errors carry no line number.
func parseOnce(text []byte, strict bool) (l *layer, err error) {
	// ini.v1 is third-party code fed with whatever is on the SD card: a panic in it must
	// become a clear error, never take the daemon down.
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, &ValidationError{Msg: msgSyntax, Detail: fmt.Sprint("parser panic: ", r)}
		}
	}()
	f, err := ini.LoadSources(loadOptions(false), text)
	if err != nil {
		return nil, &ValidationError{Msg: msgSyntax, Detail: strings.TrimSpace(err.Error())}
	}
	secs := f.Sections()
	// Sections()[0] is the implicit DEFAULT that ini.v1 opens before the first header.
	if len(secs) > 0 && len(secs[0].Keys()) > 0 {
		return nil, &ValidationError{Msg: msgSyntax, Detail: "line outside of any [section]"}
	}
	for _, s := range secs {
		for _, k := range s.Keys() {
			// A bare key followed by an indented line: ini.v1 folds the line into the key's
			// name, configparser refuses it. Either way the file is wrong.
			if strings.ContainsAny(k.Name(), "\r\n") {
				return nil, &ValidationError{Msg: msgSyntax, Detail: fmt.Sprintf("continuation of the bare key %q", firstLine(k.Name()))}
			}
		}
	}
	if strict {
		if err := checkDuplicates(text, secs); err != nil {
			return nil, err
		}
	}
	l = newLayer()
	for i, s := range secs {
		if i == 0 {
			continue
		}
		dst := l.section(s.Name())
		for _, k := range s.Keys() {
			dst.set(k.Name(), cleanValue(k.Value()))
		}
	}
	return l, nil
}

// checkDuplicates re-reads text keeping ini.v1's shadow keys and compares with the lenient
// parse (secs). ini.v1 drops empty shadows, so a duplicate shows either as two non-empty
// values, a non-empty shadow behind an empty first value, or a lenient (last) value that
// differs from the first.
func checkDuplicates(text []byte, secs []*ini.Section) error {
	g, err := ini.LoadSources(loadOptions(true), text)
	if err != nil { // e.g. a repeated bare key: ini.v1 cannot shadow those
		return &ValidationError{Msg: msgSyntax, Detail: strings.TrimSpace(err.Error())}
	}
	gsecs := g.Sections()
	if len(gsecs) != len(secs) {
		return &ValidationError{Msg: msgSyntax, Detail: "inconsistent parse"}
	}
	seen := map[string]bool{}
	for i, s := range gsecs {
		if i == 0 {
			continue
		}
		if seen[s.Name()] {
			return &ValidationError{Msg: fmt.Sprintf(msgDupSection, s.Name())}
		}
		seen[s.Name()] = true
		for _, k := range s.Keys() {
			nonEmpty := len(k.ValueWithShadows())
			last := secs[i].Key(k.Name()).Value()
			if nonEmpty > 1 || (k.Value() == "" && nonEmpty == 1) || last != k.Value() {
				return &ValidationError{Msg: fmt.Sprintf(msgDupOption, k.Name(), s.Name())}
			}
		}
	}
	return nil
}

// locate returns the smallest number of leading lines whose text already fails the check,
// and that failure. Failures only accumulate as lines are added (a repeated key stays
// repeated), so a binary search over prefix lengths finds the first offending line.
func locate(text []byte, strict bool) (int, *ValidationError) {
	lines := bytes.SplitAfter(text, []byte("\n"))
	fails := func(n int) *ValidationError {
		_, err := parseOnce(bytes.Join(lines[:n], nil), strict)
		se, _ := err.(*ValidationError)
		return se
	}
	n := sort.Search(len(lines)+1, func(n int) bool { return fails(n) != nil })
	if n > len(lines) {
		return 0, nil
	}
	return n, fails(n)
}

// cleanValue gives a multi-line value configparser's shape: each line stripped, indented
// comment lines dropped, trailing blank lines removed.
func cleanValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	lines := strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n")
	out := lines[:0]
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if i > 0 && (strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue
		}
		out = append(out, line)
	}
	return strings.TrimRight(strings.Join(out, "\n"), " \t\r\n")
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
