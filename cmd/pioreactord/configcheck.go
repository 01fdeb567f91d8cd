package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// configProblem is a value config.Validate refuses, with the file and line that set it.
type configProblem struct {
	config.Problem
	file string // "" when no file sets it (a default)
	line int
}

func (p configProblem) Error() string {
	if p.file == "" {
		return p.Err.Error()
	}
	return fmt.Sprintf("%s line %d: %v", p.file, p.line, p.Err)
}

// validateAtStart runs at start the checks the config editors run before saving
// (config.Validate), so a file that saves is a file that starts. A problem that would stop
// the broker, a listener or the MQTT client fails the start, naming file and line; the
// rest is returned to be logged: only the job reading such a key fails, and a typo there
// must not make the unit unreachable.
func validateAtStart(o options, conf *config.Config, unitPath string) ([]configProblem, error) {
	sharedPath := o.configPath
	if sharedPath == "" && o.sim {
		var err error
		if sharedPath, _, err = simConfigFiles(o); err != nil {
			return nil, err
		}
	}
	var texts [][2]string // path, text; the unit file first: its values win
	for _, path := range []string{unitPath, sharedPath} {
		if path == "" {
			continue
		}
		if b, err := os.ReadFile(path); err == nil {
			texts = append(texts, [2]string{path, string(b)})
		}
	}
	var rest []configProblem
	var fatal []error
	for _, p := range conf.ValidateEach() {
		cp := configProblem{Problem: p}
		for _, t := range texts {
			if n := p.Line([]byte(t[1])); n > 0 {
				cp.file, cp.line = t[0], n
				break
			}
		}
		if fatalAtStart(p) {
			fatal = append(fatal, cp)
		} else {
			rest = append(rest, cp)
		}
	}
	if len(fatal) > 0 {
		return nil, fmt.Errorf("config: %w", errors.Join(fatal...))
	}
	return rest, nil
}

// fatalAtStart: the [mqtt] keys (the broker and every MQTT client read them) and the HTTP
// listener's.
func fatalAtStart(p config.Problem) bool {
	switch p.Section {
	case config.SecMQTT:
		return true
	case secUI:
		return p.Key == "port" || p.Key == keyBind || p.Key == keyCertFile || p.Key == keyKeyFile
	}
	return false
}

// logConfigProblems logs what validateAtStart let through, one ERROR per value.
func logConfigProblems(log *slog.Logger, problems []configProblem) {
	for _, p := range problems {
		key := "[" + p.Section + "]"
		if p.Key != "" {
			key += " " + p.Key
		}
		log.Error("config value refused: what reads it will not start", "key", key, "file", p.file, "line", p.line, "err", p.Err)
	}
}
