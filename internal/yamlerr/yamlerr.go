// Package yamlerr words yaml.v3's errors for people: every line number 1-based, so a
// message points at the line of the mistake.
package yamlerr

import (
	"regexp"
	"slices"
	"strconv"
)

// yaml.v3 reports a parser error (as opposed to a scanner error) with a 0-based line: the
// line of the construct being parsed, or of the problem, without the +1 it adds for scanner
// errors. These are its parser problems; for them the line is moved to 1-based (a `[`
// never closed, a `- item` inside a mapping).
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

var lineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Message is err's text with yaml.v3's parser-error line numbers made 1-based.
func Message(err error) string {
	msg := err.Error()
	m := lineRe.FindStringSubmatch(msg)
	if m == nil || !slices.Contains(parserProblems, m[2]) {
		return msg
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return msg
	}
	return "yaml: line " + strconv.Itoa(n+1) + ": " + m[2]
}
