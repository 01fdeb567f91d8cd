package calibration

import (
	"regexp"
	"slices"
	"strconv"
)

// yaml.v3 reports a parser error (as opposed to a scanner error) with a 0-based line: the
// line of the construct being parsed, or of the problem, without the +1 it adds for scanner
// errors. These are its parser problems; for them the line is moved to 1-based, so the
// message points at the line where the mistake is (a `[` never closed, a `- item` inside
// a mapping).
var yamlParserProblems = []string{
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

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlMessage is err's text with yaml.v3's parser-error line numbers made 1-based.
func yamlMessage(err error) string {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil || !slices.Contains(yamlParserProblems, m[2]) {
		return msg
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return msg
	}
	return "yaml: line " + strconv.Itoa(n+1) + ": " + m[2]
}
