package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// fakePublisher records what it is asked to publish.
type fakePublisher struct {
	mu   sync.Mutex
	msgs []published
	err  error
	got  chan struct{} // one token per publish
}

type published struct {
	topic   string
	payload map[string]any
	qos     byte
	retain  bool
}

func newFake() *fakePublisher { return &fakePublisher{got: make(chan struct{}, 100)} }

func (f *fakePublisher) Publish(_ context.Context, topic string, payload []byte, qos byte, retain bool) error {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, published{topic, m, qos, retain})
	f.mu.Unlock()
	f.got <- struct{}{}
	return f.err
}

func (f *fakePublisher) all() []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]published(nil), f.msgs...)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 5, 123456789, time.FixedZone("x", 3600))

// setup returns a logger whose handler publishes synchronously enough to test: Run is started
// and wait blocks until n messages have been published.
func setup(t *testing.T, o Options) (*Handler, *fakePublisher, *bytes.Buffer, func(n int)) {
	t.Helper()
	var buf bytes.Buffer
	if o.Now == nil {
		o.Now = func() time.Time { return t0 }
	}
	h := New(&lockedWriter{w: &buf}, o)
	pub := newFake()
	h.SetPublisher(pub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-pub.got:
			case <-time.After(5 * time.Second):
				t.Fatal("publish did not happen")
			}
		}
	}
	return h, pub, &buf, wait
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestLevelNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    slog.Level
		want string
	}{
		{LevelDebug, "DEBUG"}, {LevelDebug - 4, "DEBUG"}, {LevelInfo, "INFO"}, {LevelInfo + 1, "INFO"},
		{LevelNotice, "NOTICE"}, {LevelWarning, "WARNING"}, {LevelError, "ERROR"}, {LevelError + 2, "ERROR"},
		{LevelCritical, "CRITICAL"}, {LevelCritical + 10, "CRITICAL"},
	} {
		if got := LevelName(tc.l); got != tc.want {
			t.Errorf("LevelName(%d) = %s, want %s", tc.l, got, tc.want)
		}
		if tc.l == LevelDebug-4 || tc.l == LevelInfo+1 || tc.l == LevelError+2 || tc.l == LevelCritical+10 {
			continue
		}
		if back, err := ParseLevel(strings.ToLower(tc.want)); err != nil || back != tc.l {
			t.Errorf("ParseLevel(%s) = %v, %v", tc.want, back, err)
		}
	}
	if l, err := ParseLevel("warn"); err != nil || l != LevelWarning {
		t.Errorf("ParseLevel(warn) = %v, %v", l, err)
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel must refuse unknown names")
	}
}

func TestMessageRendering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		{"plain", func(l *slog.Logger) { l.Info("Ready.") }, "Ready."},
		{"err attr", func(l *slog.Logger) { l.Error("read failed", "err", errors.New("i2c timeout")) }, "read failed: i2c timeout"},
		{"other attrs", func(l *slog.Logger) { l.Info("updated", "attr", "target_rpm", "value", 500.0, "ok", true) },
			"updated attr=target_rpm value=500 ok=true"},
		{"err before attrs", func(l *slog.Logger) { l.Warn("retry", "n", 3, "err", errors.New("busy")) }, "retry: busy n=3"},
		{"quoted value", func(l *slog.Logger) { l.Info("x", "path", "a b", "empty", "") }, `x path="a b" empty=""`},
		{"routing attrs not appended", func(l *slog.Logger) { l.Info("x", "job", "j", "task", "t", "source", "s", "k", 1) }, "x k=1"},
		{"group", func(l *slog.Logger) { l.WithGroup("pid").Info("x", "kp", 0.5, slog.Group("terms", "p", 1)) }, "x pid.kp=0.5 pid.terms.p=1"},
		{"CRLF and CR", func(l *slog.Logger) { l.Info("a\r\nb\rc") }, "a\nb\nc"},
		{"ANSI stripped", func(l *slog.Logger) { l.Info("\x1b[31mred\x1b[0m \x1b[1;32mbold\x1b[m") }, "red bold"},
		{"invalid UTF-8", func(l *slog.Logger) { l.Info("a\xffb") }, "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, pub, _, wait := setup(t, Options{})
			tc.log(slog.New(h).With("unit", "pio01", "experiment", "exp1"))
			wait(1)
			if got := pub.all()[0].payload["message"]; got != tc.want {
				t.Errorf("message = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		log                 func(l *slog.Logger)
		topic, task, source string
		level               string
	}{
		{"defaults", func(l *slog.Logger) { l.Info("m") }, "pioreactor/pio01/exp1/logs/app/info", "pioreactord", "app", "INFO"},
		{"job is the task", func(l *slog.Logger) { l.With("job", "stirring").Warn("m") }, "pioreactor/pio01/exp1/logs/app/warning", "stirring", "app", "WARNING"},
		{"task wins over job", func(l *slog.Logger) { l.With("job", "stirring", "task", "calib").Debug("m") }, "pioreactor/pio01/exp1/logs/app/debug", "calib", "app", "DEBUG"},
		{"source", func(l *slog.Logger) { l.With("source", "ui").Log(context.Background(), LevelNotice, "m") }, "pioreactor/pio01/exp1/logs/ui/notice", "pioreactord", "ui", "NOTICE"},
		{"critical", func(l *slog.Logger) { l.Log(context.Background(), LevelCritical, "m") }, "pioreactor/pio01/exp1/logs/app/critical", "pioreactord", "app", "CRITICAL"},
		{"record attr overrides With", func(l *slog.Logger) { l.Error("m", "experiment", "exp2") }, "pioreactor/pio01/exp2/logs/app/error", "pioreactord", "app", "ERROR"},
		{"routing survives WithGroup", func(l *slog.Logger) { l.With("job", "od_reading").WithGroup("g").Info("m", "unit", "ignored") }, "pioreactor/pio01/exp1/logs/app/info", "od_reading", "app", "INFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, pub, _, wait := setup(t, Options{})
			tc.log(slog.New(h).With("unit", "pio01", "experiment", "exp1"))
			wait(1)
			p := pub.all()[0]
			if p.topic != tc.topic || p.qos != 0 || p.retain {
				t.Errorf("topic %q qos %d retain %v; want %q, 0, false", p.topic, p.qos, p.retain, tc.topic)
			}
			want := map[string]any{"message": p.payload["message"], "level": tc.level, "task": tc.task,
				"source": tc.source, "timestamp": "2026-03-01T11:00:05.123Z"}
			for k, v := range want {
				if p.payload[k] != v {
					t.Errorf("payload[%s] = %v, want %v", k, p.payload[k], v)
				}
			}
		})
	}
}

func TestNotPublished(t *testing.T) {
	t.Parallel()
	h, pub, buf, wait := setup(t, Options{})
	l := slog.New(h)
	l.Info("no routing")
	l.With("unit", "pio01").Info("no experiment")
	l.With("experiment", "exp1").Info("no unit")
	l.With("unit", "pio01", "experiment", "").Info("empty experiment")
	l.WithGroup("g").With("unit", "pio01", "experiment", "exp1").Info("routing inside a group")
	l.With("unit", "pio01", "experiment", "exp1").Info("marker")
	wait(1)
	if got := pub.all(); len(got) != 1 || got[0].payload["message"] != "marker" {
		t.Fatalf("published %v, want only the marker", got)
	}
	if n := strings.Count(buf.String(), "\n"); n != 6 {
		t.Errorf("text sink has %d lines, want 6:\n%s", n, buf)
	}
}

func TestBeforePublisherAndLevels(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := func() time.Time { return t0 }
	h := New(&lockedWriter{w: &buf}, Options{Level: LevelWarning, MQTTLevel: LevelInfo, Now: now, QueueSize: 4})
	l := slog.New(h).With("unit", "u", "experiment", "e")
	l.Error("before publisher") // text only: nothing is queued without a publisher
	if l.Enabled(context.Background(), LevelDebug) {
		t.Error("DEBUG enabled with a WARNING text sink and no publisher")
	}
	pub := newFake()
	h.SetPublisher(pub)
	if !l.Enabled(context.Background(), LevelInfo) || l.Enabled(context.Background(), LevelDebug) {
		t.Error("with a publisher, INFO (MQTT level) must be enabled and DEBUG not")
	}
	l.Debug("below both")
	l.Info("mqtt only")
	l.Log(context.Background(), LevelNotice, "notice")
	l.Warn("both")
	if n := len(h.c.queue); n != 3 {
		t.Fatalf("queued %d, want 3 (info, notice, warning)", n)
	}
	text := buf.String()
	for _, want := range []string{"level=ERROR", `msg="before publisher"`, "level=WARNING", "time=2026-03-01T12:00:05.123+01:00", "unit=u"} {
		if !strings.Contains(text, want) {
			t.Errorf("text sink lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "mqtt only") || strings.Contains(text, "notice") {
		t.Errorf("text sink below its level:\n%s", text)
	}
	h.SetPublisher(nil)
	l.Error("after unset")
	if n := len(h.c.queue); n != 3 {
		t.Fatalf("queued %d after SetPublisher(nil), want 3", n)
	}
}

func TestQueueFullDrops(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{QueueSize: 2, Now: func() time.Time { return t0 }})
	pub := newFake()
	h.SetPublisher(pub)
	l := slog.New(h).With("unit", "u", "experiment", "e")
	for i := range 5 {
		l.Info("m", "i", i) // Run not started: nothing drains
	}
	if h.Dropped() != 3 {
		t.Fatalf("Dropped() = %d, want 3", h.Dropped())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	for range 2 {
		<-pub.got
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v on cancellation", err)
	}
	got := pub.all()
	if len(got) != 2 || got[0].payload["message"] != "m i=0" || got[1].payload["message"] != "m i=1" {
		t.Fatalf("published %v, want the first two in order", got)
	}
}

func TestPublishErrorsCounted(t *testing.T) {
	t.Parallel()
	h, pub, buf, wait := setup(t, Options{})
	pub.err = errors.New("not connected")
	l := slog.New(h).With("unit", "u", "experiment", "e")
	l.Info("one")
	l.Info("two")
	wait(2)
	deadline := time.Now().Add(5 * time.Second)
	for h.Failed() != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if h.Failed() != 2 {
		t.Fatalf("Failed() = %d, want 2", h.Failed())
	}
	if strings.Contains(buf.String(), "not connected") {
		t.Error("a publish error must not be logged")
	}
}

func TestDrainOnShutdown(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	pub := newFake()
	h.SetPublisher(pub)
	l := slog.New(h).With("unit", "u", "experiment", "e")
	l.Info("Disconnected.")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run sees a done context at once: queued records are still flushed
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pub.all(); len(got) != 1 {
		t.Fatalf("flushed %d records, want 1", len(got))
	}
}

func TestConcurrentLogging(t *testing.T) {
	t.Parallel()
	h, pub, _, wait := setup(t, Options{QueueSize: 1000})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := slog.New(h).With("unit", "u", "experiment", "e", "job", "j")
			for i := range 50 {
				l.Info("m", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	wait(400 - int(h.Dropped()))
	if n := uint64(len(pub.all())) + h.Dropped(); n != 400 {
		t.Fatalf("published+dropped = %d, want 400", n)
	}
}

// The daemon hands its MQTT client to SetPublisher.
var _ Publisher = pubsub.Client(nil)
