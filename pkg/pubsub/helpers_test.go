package pubsub_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// recorder is a Handler that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []pubsub.Message
}

func (r *recorder) handle(m pubsub.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

func (r *recorder) got() []pubsub.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// topics lists "topic=payload" (with " (retained)" when flagged) for easy comparison.
func (r *recorder) topics() []string {
	var out []string
	for _, m := range r.got() {
		s := m.Topic + "=" + string(m.Payload)
		if m.Retained {
			s += " (retained)"
		}
		out = append(out, s)
	}
	return out
}

func dial(t *testing.T, d pubsub.Dialer, o pubsub.Options) pubsub.Client {
	t.Helper()
	c, err := d.Dial(t.Context(), o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func subscribe(t *testing.T, c pubsub.Client, filter string) *recorder {
	t.Helper()
	r := &recorder{}
	if err := c.Subscribe(t.Context(), filter, pubsub.ExactlyOnce, r.handle); err != nil {
		t.Fatalf("Subscribe %q: %v", filter, err)
	}
	return r
}

func publish(t *testing.T, c pubsub.Client, topic, payload string, retain bool) {
	t.Helper()
	if err := c.Publish(t.Context(), topic, []byte(payload), pubsub.ExactlyOnce, retain); err != nil {
		t.Fatalf("Publish %s: %v", topic, err)
	}
}

const (
	user    = "pioreactor"
	pass    = "raspberry"
	waitFor = 10 * time.Second // bound for things that take milliseconds (or one reconnect)
)

var idSeq atomic.Int64

func clientID(name string) string { return fmt.Sprintf("%s-%d", name, idSeq.Add(1)) }

// runningBroker is a broker.Broker served until stop (or the end of the test).
type runningBroker struct {
	*broker.Broker
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func runBroker(t *testing.T, addr string) *runningBroker {
	t.Helper()
	b, err := broker.Listen(broker.Config{TCPAddr: addr, Username: user, Password: pass}, nil)
	if err != nil {
		t.Fatalf("broker.Listen(%s): %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rb := &runningBroker{Broker: b, cancel: cancel, done: make(chan error, 1)}
	go func() { rb.done <- b.Run(ctx) }()
	t.Cleanup(func() { rb.stop(t) })
	return rb
}

func (rb *runningBroker) stop(t *testing.T) {
	rb.once.Do(func() {
		rb.cancel()
		if err := <-rb.done; err != nil {
			t.Errorf("broker Run: %v", err)
		}
	})
}

func (rb *runningBroker) dialer() pubsub.Dialer {
	return pubsub.NewDialer(rb.TCPAddr(), user, pass, nil)
}

// eventually polls cond until it holds; delivery over a real broker is asynchronous.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasN(r *recorder, n int) func() bool { return func() bool { return len(r.got()) >= n } }

// proxy forwards TCP to a broker; cut drops every connection like a pulled cable and
// refuses new ones until restore.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				down.Close()
				up.Close()
				continue
			}
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			go pipe(up, down)
			go pipe(down, up)
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
