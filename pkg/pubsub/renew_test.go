package pubsub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// doneToken is a finished paho token carrying err.
type doneToken struct{ err error }

func (doneToken) Wait() bool                     { return true }
func (doneToken) WaitTimeout(time.Duration) bool { return true }
func (doneToken) Done() <-chan struct{}          { c := make(chan struct{}); close(c); return c }
func (t doneToken) Error() error                 { return t.err }

// flakyPaho is a connected paho client whose first fails renewals fail.
type flakyPaho struct {
	paho.Client
	mu     sync.Mutex
	fails  int
	open   bool
	events *[]string
}

func (p *flakyPaho) SubscribeMultiple(map[string]byte, paho.MessageHandler) paho.Token {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fails > 0 {
		p.fails--
		*p.events = append(*p.events, "renewal failed")
		return doneToken{errors.New("no SUBACK")}
	}
	*p.events = append(*p.events, "renewed")
	return doneToken{}
}

func (p *flakyPaho) Disconnect(uint) {}

func (p *flakyPaho) IsConnectionOpen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// capture is a slog.Handler keeping messages.
type capture struct {
	mu   sync.Mutex
	msgs []string
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, r.Message)
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }
func (c *capture) count(sub string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// OnReconnect runs only once the subscriptions are renewed: a failed renewal is retried,
// and logged, rather than reported as a good reconnect.
func TestOnReconnectWaitsForRenewal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fails     int
		dropsLink bool
		want      []string
	}{
		{"renewed at once", 0, false, []string{"renewed", "OnReconnect"}},
		{"renewal retried", 3, false, []string{"renewal failed", "renewal failed", "renewal failed", "renewed", "OnReconnect"}},
		{"link lost meanwhile", 1, true, []string{"renewal failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var events []string
				logs := &capture{}
				c := newPahoClient(slog.New(logs), Options{OnReconnect: func() { events = append(events, "OnReconnect") }})
				c.subs["a/#"] = &subscription{filter: "a/#", qos: 1, live: map[string]struct{}{}, q: startQueue(func(Message) {}, nil, 0, nil)}
				pc := &flakyPaho{fails: tc.fails, open: !tc.dropsLink, events: &events}
				c.paho = pc
				c.onConnect(pc) // the first connection
				c.onConnect(pc) // a reconnect
				if !slices.Equal(events, tc.want) {
					t.Fatalf("events %q, want %q", events, tc.want)
				}
				if tc.fails > 0 && logs.count("not renewed") != 1 {
					t.Errorf("failed renewal logged %d times, want once", logs.count("not renewed"))
				}
				c.Close()
			})
		})
	}
}
