package pubsub

import "strings"

// Match reports whether topic matches filter under MQTT 3.1.1 rules (§4.7): "+" matches
// exactly one level (which may be empty), "#" matches the rest including the parent level
// ("a/#" matches "a"), and a filter starting with a wildcard does not match topics
// starting with "$". A malformed filter or topic matches nothing.
func Match(filter, topic string) bool {
	return validFilter(filter) && validTopic(topic) && match(filter, topic)
}

// match is Match for a filter and topic already known to be valid (filters are checked
// by Subscribe, topics by Publish or the broker); it runs once per message and
// subscription, so it skips the validation.
func match(filter, topic string) bool {
	if topic != "" && topic[0] == '$' && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		f, fRest, fMore := strings.Cut(filter, "/")
		if f == "#" {
			return true
		}
		t, tRest, tMore := strings.Cut(topic, "/")
		if f != "+" && f != t {
			return false
		}
		switch {
		case !fMore:
			return !tMore
		case !tMore:
			return fRest == "#"
		}
		filter, topic = fRest, tRest
	}
}

// validTopic: a topic one can publish to is non-empty and has no wildcards or NUL.
func validTopic(topic string) bool {
	return topic != "" && len(topic) <= 65535 && !strings.ContainsAny(topic, "+#\x00")
}

// validFilter: non-empty; "+" and "#" only as whole levels; "#" only last; no NUL.
func validFilter(filter string) bool {
	if filter == "" || len(filter) > 65535 || strings.IndexByte(filter, 0) >= 0 {
		return false
	}
	for i := 0; i < len(filter); i++ {
		switch filter[i] {
		case '#':
			// Alone in the last level.
			if i != len(filter)-1 || (i > 0 && filter[i-1] != '/') {
				return false
			}
		case '+':
			// Alone in its level.
			if (i > 0 && filter[i-1] != '/') || (i < len(filter)-1 && filter[i+1] != '/') {
				return false
			}
		}
	}
	return true
}
