package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rawPublisher keeps the payloads as they were published.
type rawPublisher struct{ got chan []byte }

func (p rawPublisher) Publish(_ context.Context, _ string, payload []byte, _ byte, _ bool) error {
	p.got <- payload
	return nil
}

// A record echoing a huge payload reaches MQTT (and the store behind it) and the text sink
// bounded, saying how long it was.
func TestLongRecordsTruncated(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	bounded := MaxMessageBytes + 64 // the cap plus the "… (truncated, N bytes)" note
	tests := []struct {
		name     string
		log      func(*slog.Logger)
		wantNote string
		textCut  bool // the text sink cuts too (it bounds the message and each attr, not their sum)
	}{
		{"message", func(l *slog.Logger) { l.Error(huge) }, "(truncated, 1048576 bytes)", true},
		{"attr", func(l *slog.Logger) { l.Error("bad payload", "payload", huge) }, "(truncated, 1048576 bytes)", true},
		{"err", func(l *slog.Logger) { l.Error("bad payload", "err", errors.New(huge)) }, "(truncated, 1048576 bytes)", true},
		{"bytes attr", func(l *slog.Logger) { l.Error("bad payload", "payload", []byte(huge)) }, "(truncated, ", true},
		{"many attrs", func(l *slog.Logger) {
			args := []any{}
			for i := range 100 {
				args = append(args, "k"+strings.Repeat("y", i), strings.Repeat("v", 500))
			}
			l.Error("many", args...)
		}, "(truncated, ", false},
		{"multibyte at the cut", func(l *slog.Logger) { l.Error(strings.Repeat("é", MaxMessageBytes)) }, "(truncated, 8192 bytes)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var text bytes.Buffer
			h := New(&lockedWriter{w: &text}, Options{Now: func() time.Time { return t0 }})
			pub := rawPublisher{got: make(chan []byte, 1)}
			h.SetPublisher(pub)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = h.Run(ctx) }()
			tt.log(slog.New(h).With("unit", "pio01", "experiment", "exp"))

			var payload []byte
			select {
			case payload = <-pub.got:
			case <-time.After(5 * time.Second):
				t.Fatal("nothing published")
			}
			var m struct{ Message string }
			if err := json.Unmarshal(payload, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Message) > bounded || !strings.Contains(m.Message, tt.wantNote) || !utf8.ValidString(m.Message) {
				t.Errorf("mqtt message: %d bytes, note %q present: %v, valid utf-8: %v",
					len(m.Message), tt.wantNote, strings.Contains(m.Message, tt.wantNote), utf8.ValidString(m.Message))
			}
			if len(payload) > bounded+512 {
				t.Errorf("mqtt payload %d bytes", len(payload))
			}
			if line := text.String(); tt.textCut && (len(line) > 2*bounded || !strings.Contains(line, "truncated, ")) {
				t.Errorf("text line: %d bytes, truncation noted: %v", len(line), strings.Contains(line, "truncated, "))
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456789… (truncated, 13 bytes)"},
		{"aé", 2, "a… (truncated, 3 bytes)"}, // é is two bytes: cut before it
	} {
		if got := truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
