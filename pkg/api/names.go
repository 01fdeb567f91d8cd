package api

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

var workerName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// validName reports a usable unit name (docs/http.md, "Workers"): letters, digits, _ and -, and
// never $broadcast, localhost or an IP address, which would resolve to the wrong machine.
func validName(name string) bool {
	return workerName.MatchString(name) && name != contract.Broadcast &&
		!strings.EqualFold(name, "localhost") && net.ParseIP(name) == nil
}

// reservedExperiments are the words a route under /api/experiments/ answers itself, so an
// experiment of that name could never be read, edited or deleted; "." and ".." are
// rewritten away by clients before the path reaches us.
var reservedExperiments = []string{"latest", "active", "assignment_count", ".", ".."}

// checkExperimentName applies the create-time rules of docs/http.md, "Experiments", in its order, then
// ours: no control characters or invalid UTF-8 (they break MQTT topics, client ids and log
// lines) and no name a route shadows.
func checkExperimentName(name string) *Error {
	bad := func(msg, cause, remedy string) *Error { return httpError(http.StatusBadRequest, msg, cause, remedy) }
	switch {
	case strings.TrimSpace(name) == "":
		return bad("Experiment name is required", "The experiment name is empty.", "Provide an experiment name.")
	case len(name) >= 200:
		return bad("Experiment name is too long", "Experiment names must be shorter than 200 characters.",
			"Choose a shorter experiment name.")
	case strings.EqualFold(name, "current"):
		return bad("Experiment name cannot be 'current'", "'current' is a reserved experiment identifier.",
			"Choose a different experiment name.")
	case strings.HasPrefix(name, "_testing"):
		return bad("Experiment name cannot start with '_testing'", "'_testing' names are reserved for scratch experiments.",
			"Choose a different experiment name.")
	case strings.ContainsAny(name, `#$%+/\`):
		return bad(`Experiment name cannot contain special characters (#, $, %, +, /, \)`,
			"These characters have a meaning in MQTT topics or URLs.", "Remove the special characters.")
	}
	if err := checkExperimentUse(name); err != nil {
		return err
	}
	for _, w := range reservedExperiments {
		if strings.EqualFold(name, w) {
			return bad(fmt.Sprintf("Experiment name cannot be '%s'", w),
				fmt.Sprintf("'%s' is a reserved word: a route under /api/experiments/ has that name.", w),
				"Choose a different experiment name.")
		}
	}
	return nil
}

// checkExperimentUse refuses an experiment name that cannot be one level of an MQTT topic,
// whoever created it: empty, invalid UTF-8, a control character (NUL, newline, ...) or one
// of / + #. A run request carries its experiment this way into a job's topics and client id.
func checkExperimentUse(name string) *Error {
	bad := func(msg, cause string) *Error {
		return httpError(http.StatusBadRequest, msg, cause, "Choose an experiment name of printable characters.")
	}
	switch {
	case name == "":
		return bad("Experiment name is required", "The experiment name is empty.")
	case !utf8.ValidString(name):
		return bad("Experiment name is not valid UTF-8", fmt.Sprintf("%q is not UTF-8 text.", name))
	case strings.ContainsFunc(name, unicode.IsControl):
		return bad("Experiment name cannot contain control characters",
			fmt.Sprintf("%q contains a control character (such as NUL, a tab or a line break).", name))
	case strings.ContainsAny(name, "/+#"):
		return bad(`Experiment name cannot contain special characters (#, $, %, +, /, \)`,
			fmt.Sprintf("%q cannot be one level of an MQTT topic.", name))
	}
	return nil
}

// topicSegment reports whether s can be one level of an MQTT topic we publish to: UTF-8
// (MQTT requires it), no wildcard or separator, no control character.
func topicSegment(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsAny(s, "/+#") &&
		!strings.ContainsFunc(s, unicode.IsControl)
}
