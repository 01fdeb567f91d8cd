package pubsub

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// fakeMessage is the part of a paho.Message that route reads.
type fakeMessage struct {
	paho.Message
	topic    string
	payload  string
	retained bool
}

func (m fakeMessage) Topic() string   { return m.topic }
func (m fakeMessage) Payload() []byte { return []byte(m.payload) }
func (m fakeMessage) Retained() bool  { return m.retained }

// route delivers each message once to every matching subscription, and drops a retained
// message that would overwrite a newer live one (mochi can send them in that order).
func TestRouteDropsStaleRetained(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newPahoClient(slog.New(slog.DiscardHandler), Options{})
		var mu sync.Mutex
		got := map[string][]string{}
		for _, f := range []string{"a/#", "a/b"} {
			c.subs[f] = &subscription{filter: f, live: map[string]struct{}{}, q: startQueue(func(m Message) {
				mu.Lock()
				defer mu.Unlock()
				s := m.Topic + "=" + string(m.Payload)
				if m.Retained {
					s += " (retained)"
				}
				got[f] = append(got[f], s)
			}, nil, 0, nil)}
		}
		for _, m := range []fakeMessage{
			{topic: "a/c", payload: "old", retained: true}, // no live a/c yet: delivered
			{topic: "a/b", payload: "new"},                 // live
			{topic: "a/b", payload: "old", retained: true}, // stale: dropped
			{topic: "x", payload: "unmatched"},
		} {
			c.route(nil, m)
		}
		synctest.Wait()
		want := map[string][]string{
			"a/#": {"a/c=old (retained)", "a/b=new"},
			"a/b": {"a/b=new"},
		}
		for f, w := range want {
			if !slices.Equal(got[f], w) {
				t.Errorf("%s got %q, want %q", f, got[f], w)
			}
		}
		for _, s := range c.subs {
			s.q.close()
		}
	})
}
