package config

import (
	"bytes"
	"fmt"
	"strings"
)

// scanStrict finds, line by line, what ini.v1 accepts but an editor must refuse: a line
// with no `=` or `:` (ini.v1 reads it as a bare key set to "true", which no reader of ours
// expects, so it is almost always a typo) and a section header repeated with different
// spacing (`[x]` then `[ x ]`, which ini.v1 merges silently). Runs after a successful
// strict parse; errors carry the line.
func scanStrict(text []byte) *ValidationError {
	seen := map[string]int{}
	for i, raw := range bytes.Split(text, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
		case startsIndented(line): // a continuation line of a multi-line value
		case strings.HasPrefix(t, "["):
			name, _, _ := strings.Cut(t[1:], "]")
			name = strings.TrimSpace(name)
			if _, dup := seen[name]; dup {
				return &ValidationError{Line: i + 1, Msg: fmt.Sprintf(msgDupSection, name)}
			}
			seen[name] = i + 1
		case !strings.ContainsAny(t, "=:"):
			return &ValidationError{Line: i + 1, Msg: msgSyntax,
				Detail: fmt.Sprintf("%q has no '=': write key=value", truncate(t, 40))}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
