package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// publishWait bounds one publish's wait for the broker (docs/pio.md, "Timeouts": ≤2 s).
const publishWait = 2 * time.Second

const logsHelp = `Usage: pio logs [-n N] [-f]

  The last N (100) log lines of this unit, oldest first, from the leader's log store;
  -f then follows new lines as the unit publishes them.`

// logRow is a row of the leader's log routes (docs/http.md, "Logs").
type logRow struct {
	Timestamp  string `json:"timestamp"`
	Level      string `json:"level"`
	Unit       string `json:"pioreactor_unit"`
	Message    string `json:"message"`
	Task       string `json:"task"`
	Experiment string `json:"experiment"`
}

func formatLog(r logRow) string {
	return fmt.Sprintf("%s [%s] %s %s", r.Timestamp, r.Task, r.Level, r.Message)
}

func (a *app) logs(ctx context.Context, args []string) error {
	c := a.command("logs", logsHelp)
	n := c.fs.Int("n", 100, "")
	follow := c.fs.Bool("f", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	unit, err := a.unitName(ctx)
	if err != nil {
		return err
	}
	var rows []logRow
	for skip := 0; len(rows) < *n; skip += 100 {
		q := url.Values{"min_level": {"DEBUG"}, "skip": {fmt.Sprint(skip)}}
		v, err := a.leaderCall(ctx, http.MethodGet, "/api/units/"+url.PathEscape(unit)+"/logs?"+q.Encode(), nil)
		if err != nil {
			if !*follow {
				return fmt.Errorf("read %s's logs from the leader: %w", unit, err)
			}
			fmt.Fprintf(a.stderr, "could not read past logs: %v\n", err)
			break
		}
		var page []logRow
		if err := json.Unmarshal(v, &page); err != nil {
			return fmt.Errorf("unreadable logs: %w", err)
		}
		rows = append(rows, page...)
		if len(page) < 100 {
			break
		}
	}
	if len(rows) > *n {
		rows = rows[:*n]
	}
	slices.Reverse(rows) // newest first from the API; a tail reads oldest first
	for _, r := range rows {
		fmt.Fprintln(a.stdout, formatLog(r))
	}
	if !*follow {
		return nil
	}
	return a.subscribe(ctx, contract.Topic(unit, "+", contract.LogsSegment, "#"), -1, func(m pubsub.Message) {
		var l contract.Log
		if json.Unmarshal(m.Payload, &l) != nil {
			return
		}
		fmt.Fprintln(a.stdout, formatLog(logRow{Timestamp: contract.FormatTime(l.Timestamp.Time()), Task: l.Task,
			Level: l.Level, Message: l.Message}))
	})
}

const logHelp = `Usage: pio log -m MESSAGE [-l debug|info|notice|warning|error|critical] [-n NAME] [--local-only]

  Write one log record for this unit in $experiment (pioreactor/<unit>/$experiment/logs/app/<level>).`

func (a *app) log(ctx context.Context, args []string) error {
	c := a.command("log", logHelp)
	msg := c.fs.String("m", "", "")
	c.fs.StringVar(msg, "message", "", "")
	level := c.fs.String("l", "debug", "")
	c.fs.StringVar(level, "level", "debug", "")
	name := c.fs.String("n", "CLI", "")
	c.fs.StringVar(name, "name", "CLI", "")
	local := c.fs.Bool("local-only", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *msg == "" {
		return c.usage("Missing option '-m' / '--message'.")
	}
	lvl := strings.ToLower(*level)
	if !slices.Contains([]string{"debug", "info", "notice", "warning", "error", "critical"}, lvl) {
		return c.usage("Invalid value for '-l' / '--level': '%s' is not one of 'debug', 'info', 'notice', 'warning', 'error', 'critical'.", *level)
	}
	now := time.Now()
	if *local {
		fmt.Fprintln(a.stderr, formatLog(logRow{Timestamp: contract.FormatTime(now), Task: *name, Level: strings.ToUpper(lvl), Message: *msg}))
		return nil
	}
	unit, err := a.unitName(ctx)
	if err != nil {
		return err
	}
	conn, err := a.dial(ctx, "pio")
	if err != nil {
		return err
	}
	defer conn.Close()
	payload := contract.Marshal(contract.Log{Message: *msg, Level: strings.ToUpper(lvl), Task: *name,
		Source: contract.SourceApp, Timestamp: contract.Timestamp(now)})
	pctx, cancel := context.WithTimeout(ctx, publishWait)
	defer cancel()
	return conn.Publish(pctx, contract.LogTopic(unit, contract.UniversalExp, contract.SourceApp, lvl), payload, 2, false)
}

const mqttHelp = `Usage: pio mqtt [-t TOPIC] [-n COUNT] [--color auto|always|never]

  Print every message on TOPIC (default pioreactor/#, QoS 2) as
  <timestamp> | <topic> | <payload>, until interrupted (or COUNT messages).`

func (a *app) mqtt(ctx context.Context, args []string) error {
	c := a.command("mqtt", mqttHelp)
	topic := c.fs.String("t", "pioreactor/#", "")
	c.fs.StringVar(topic, "topic", "pioreactor/#", "")
	count := c.fs.Int("n", -1, "")
	color := c.fs.String("color", "auto", "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	var paint bool
	switch *color {
	case "always":
		paint = true
	case "never":
	case "auto":
		paint = isTerminal(a.stdout) && a.getenv("NO_COLOR") == ""
	default:
		return c.usage("Invalid value for '--color': '%s' is not one of 'auto', 'always', 'never'.", *color)
	}
	return a.subscribe(ctx, *topic, *count, func(m pubsub.Message) {
		fmt.Fprintln(a.stdout, mqttLine(time.Now(), m, paint))
	})
}

// ANSI colours of the tail: grey time, cyan topic, payload red for error logs, yellow for
// warnings, green for a job's $state.
const (
	grey   = "\x1b[90m"
	cyan   = "\x1b[36m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	green  = "\x1b[32m"
	reset  = "\x1b[0m"
)

func mqttLine(at time.Time, m pubsub.Message, paint bool) string {
	ts := at.Format("2006-01-02T15:04:05.000")
	payload := string(m.Payload)
	if !paint {
		return ts + " | " + m.Topic + " | " + payload
	}
	pc := ""
	switch {
	case strings.Contains(m.Topic, "/logs/") && (strings.HasSuffix(m.Topic, "/error") || strings.HasSuffix(m.Topic, "/critical")):
		pc = red
	case strings.Contains(m.Topic, "/logs/") && strings.HasSuffix(m.Topic, "/warning"):
		pc = yellow
	case strings.HasSuffix(m.Topic, "/"+contract.StateAttr):
		pc = green
	}
	if pc != "" {
		payload = pc + payload + reset
	}
	return grey + ts + reset + " | " + cyan + m.Topic + reset + " | " + payload
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// subscribe prints messages of filter until ctx ends or count (≥0) messages were seen.
func (a *app) subscribe(ctx context.Context, filter string, count int, print func(pubsub.Message)) error {
	conn, err := a.dial(ctx, "pio")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	seen := 0
	err = conn.Subscribe(ctx, filter, 2, func(m pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		if count >= 0 && seen >= count {
			return
		}
		print(m)
		seen++
		if count >= 0 && seen >= count {
			cancel()
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", filter, err)
	}
	if count == 0 {
		return nil
	}
	<-ctx.Done()
	return nil
}
