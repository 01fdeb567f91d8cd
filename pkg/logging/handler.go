package logging

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Publisher sends one MQTT message; pubsub.Client satisfies it.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
}

// Options configure New. The zero value is usable.
type Options struct {
	Level          slog.Leveler     // minimum level written to the text sink; nil = INFO
	MQTTLevel      slog.Leveler     // minimum level published; nil = DEBUG (subscribers filter)
	Now            func() time.Time // clock for both sinks; nil = time.Now
	QueueSize      int              // records waiting for MQTT; 0 = 1024
	PublishTimeout time.Duration    // per publish; 0 = 2 s, as the reference waits
}

const (
	defaultQueueSize      = 1024
	defaultPublishTimeout = 2 * time.Second
	drainBudget           = time.Second // Run flushes what is queued at shutdown for at most this long
)

type message struct {
	pub     Publisher
	topic   string
	payload []byte
}

// core is shared by a Handler and every handler derived from it with With/WithGroup.
type core struct {
	pub       atomic.Pointer[pubBox]
	queue     chan message
	dropped   atomic.Uint64
	failed    atomic.Uint64
	now       func() time.Time
	level     slog.Leveler
	mqttLevel slog.Leveler
	timeout   time.Duration
}

type pubBox struct{ p Publisher }

// Handler is the slog.Handler of the daemon. Create it with New, start Run, and call
// SetPublisher once the MQTT client is connected.
type Handler struct {
	c      *core
	text   slog.Handler // nil when there is no text sink
	attrs  []slog.Attr  // With attrs, keys qualified by the group they were added in
	prefix string       // current group path, "a.b." ("" at the top level)
}

// New returns a handler writing text to w (nil: no text sink) and, once a publisher is set,
// publishing routed records to MQTT.
func New(w io.Writer, o Options) *Handler {
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueueSize
	}
	c := &core{
		queue:     make(chan message, o.QueueSize),
		now:       o.Now,
		level:     o.Level,
		mqttLevel: o.MQTTLevel,
		timeout:   o.PublishTimeout,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.level == nil {
		c.level = LevelInfo
	}
	if c.mqttLevel == nil {
		c.mqttLevel = LevelDebug
	}
	if c.timeout <= 0 {
		c.timeout = defaultPublishTimeout
	}
	h := &Handler{c: c}
	if w != nil {
		h.text = slog.NewTextHandler(w, &slog.HandlerOptions{Level: c.level, ReplaceAttr: replaceLevel})
	}
	return h
}

// replaceLevel writes the reference's level names (WARNING, NOTICE, CRITICAL) in the text
// sink, and bounds long attr values there.
func replaceLevel(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(LevelName(l))
		}
		return a
	}
	return capAttr(a)
}

// SetPublisher starts (or, with nil, stops) publishing to MQTT. Records logged while no
// publisher is set are not published later.
func (h *Handler) SetPublisher(p Publisher) {
	if p == nil {
		h.c.pub.Store(nil)
		return
	}
	h.c.pub.Store(&pubBox{p})
}

// Dropped is the number of records not published because the queue was full.
func (h *Handler) Dropped() uint64 { return h.c.dropped.Load() }

// Failed is the number of publishes that returned an error.
func (h *Handler) Failed() uint64 { return h.c.failed.Load() }

// Enabled reports whether either sink wants records at level l.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	if l >= h.c.level.Level() {
		return true
	}
	return h.c.pub.Load() != nil && l >= h.c.mqttLevel.Level()
}

// Handle writes r to the text sink and queues it for MQTT; it never waits for the network.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = h.c.now()
	var err error
	if h.text != nil && h.text.Enabled(ctx, r.Level) {
		tr := r // shares the attrs, read only
		tr.Message = truncate(r.Message, MaxMessageBytes)
		err = h.text.Handle(ctx, tr)
	}
	box := h.c.pub.Load()
	if box == nil || r.Level < h.c.mqttLevel.Level() {
		return err
	}
	topic, payload, ok := h.render(r)
	if !ok {
		return err
	}
	select {
	case h.c.queue <- message{pub: box.p, topic: topic, payload: payload}:
	default:
		h.c.dropped.Add(1)
	}
	return err
}

// WithAttrs returns a handler whose records carry attrs; routing attrs given here apply to
// every record of the derived logger.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendFlat(h2.attrs, h.prefix, a)
	}
	if h.text != nil {
		h2.text = h.text.WithAttrs(attrs)
	}
	return &h2
}

// WithGroup qualifies later attrs with name; routing attrs set before it still apply.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	if h.text != nil {
		h2.text = h.text.WithGroup(name)
	}
	return &h2
}

// Run publishes queued records until ctx is done, then flushes what is still queued for up
// to a second (the last lines of a shutdown are the ones worth seeing). It returns nil.
func (h *Handler) Run(ctx context.Context) error {
	for {
		select {
		case m := <-h.c.queue:
			h.publish(ctx, m)
		case <-ctx.Done():
			h.drain()
			return nil
		}
	}
}

func (h *Handler) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), drainBudget)
	defer cancel()
	for {
		select {
		case m := <-h.c.queue:
			h.publish(ctx, m)
		default:
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (h *Handler) publish(ctx context.Context, m message) {
	ctx, cancel := context.WithTimeout(ctx, h.c.timeout)
	defer cancel()
	if err := m.pub.Publish(ctx, m.topic, m.payload, 0, false); err != nil {
		h.c.failed.Add(1)
	}
}

// render builds the MQTT topic and payload of r; ok is false for records that are not
// routed to an experiment.
func (h *Handler) render(r slog.Record) (topic string, payload []byte, ok bool) {
	attrs := make([]slog.Attr, 0, len(h.attrs)+r.NumAttrs())
	attrs = append(attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = appendFlat(attrs, h.prefix, a)
		return true
	})
	rt := route(attrs)
	if rt.unit == "" || rt.experiment == "" {
		return "", nil, false
	}
	level := LevelName(r.Level)
	payload = contract.Marshal(contract.Log{
		Message:   renderMessage(r.Message, attrs),
		Level:     level,
		Task:      rt.task,
		Source:    rt.source,
		Timestamp: contract.Timestamp(r.Time),
	})
	return contract.LogTopic(rt.unit, rt.experiment, rt.source, level), payload, true
}
