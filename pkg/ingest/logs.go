package ingest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func parseLog(m msg, r *store.Row) error {
	var p struct {
		Message   *string `json:"message"`
		Level     string  `json:"level"`
		Task      string  `json:"task"`
		Source    string  `json:"source"`
		Timestamp *string `json:"timestamp"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	if p.Message == nil {
		return errors.New("missing message")
	}
	r.Time = m.now
	if p.Timestamp != nil {
		var err error
		if r.Time, err = stamp(p.Timestamp); err != nil {
			return err
		}
	}
	level := p.Level
	if level == "" && len(m.rest) >= 3 {
		level = m.rest[2] // logs/<source>/<level>
	}
	source := p.Source
	if source == "" && len(m.rest) >= 2 {
		source = m.rest[1] // logs/<source>/...
	}
	r.Message, r.Level = truncate(*p.Message, MaxLogMessage), truncate(strings.ToUpper(level), maxLogField)
	r.Task, r.Source = truncate(p.Task, maxLogField), truncate(source, maxLogField)
	return nil
}

// MaxLogMessage caps a stored log message, in bytes: one huge log line must not fill the
// store, nor every read of the experiment's logs. maxLogField caps the row's other texts.
const (
	MaxLogMessage = 4 << 10
	maxLogField   = 256
)

// truncate cuts s to at most limit bytes, on a rune boundary, marking what was cut.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	marker := fmt.Sprintf("… (truncated, %d bytes)", len(s))
	cut := max(limit-len(marker), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker
}
