package api

import (
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

var workerName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// validName reports a usable unit name (spec/api.md §4): letters, digits, _ and -, and
// never $broadcast, localhost or an IP address, which would resolve to the wrong machine.
func validName(name string) bool {
	return workerName.MatchString(name) && name != contract.Broadcast &&
		!strings.EqualFold(name, "localhost") && net.ParseIP(name) == nil
}

// checkExperimentName applies the create-time rules of spec/api.md §3, in its order.
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
	return nil
}

// topicSegment reports whether s can be one level of an MQTT topic we publish to.
func topicSegment(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/+#\x00")
}
