package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const (
	testUser = "pioreactor"
	testPass = "s3cret-password"
	waitFor  = 5 * time.Second // generous bound for things that happen in milliseconds
)

var clientSeq atomic.Int64

// start runs a broker on loopback ports until the test ends.
func start(t *testing.T, cfg Config, log *slog.Logger) *Broker {
	t.Helper()
	if cfg.TCPAddr == "" {
		cfg.TCPAddr = "127.0.0.1:0"
	}
	b, err := Listen(cfg, log)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			buf := make([]byte, 1<<22)
			n := runtime.Stack(buf, true)
			t.Errorf("Run did not return after cancel\n%s", buf[:n])
		}
	})
	return b
}

func startDefault(t *testing.T) *Broker {
	return start(t, Config{WSAddr: "127.0.0.1:0", Username: testUser, Password: testPass}, nil)
}

// connect opens a paho client; opts may adjust the options before connecting.
func connect(brokerURL, user, pass string, opts func(*paho.ClientOptions)) (paho.Client, error) {
	o := paho.NewClientOptions().
		AddBroker(brokerURL).
		SetClientID(fmt.Sprintf("test-%d", clientSeq.Add(1))).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectTimeout(waitFor)
	if user != "" {
		o.SetUsername(user).SetPassword(pass)
	}
	if opts != nil {
		opts(o)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(waitFor) {
		return nil, errors.New("connect timed out")
	}
	return c, tok.Error()
}

func mustConnect(t *testing.T, brokerURL string, opts func(*paho.ClientOptions)) paho.Client {
	t.Helper()
	c, err := connect(brokerURL, testUser, testPass, opts)
	if err != nil {
		t.Fatalf("connect %s: %v", brokerURL, err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func wait(t *testing.T, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(waitFor) {
		t.Fatal("token timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatal(err)
	}
}

// inbox subscribes c to filter and returns the channel its messages arrive on.
func inbox(t *testing.T, c paho.Client, filter string) <-chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 100)
	wait(t, c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { ch <- m }))
	return ch
}

func next(t *testing.T, ch <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitFor):
		t.Fatal("no message")
		return nil
	}
}

func tcpURL(b *Broker) string { return "tcp://" + b.TCPAddr() }

func TestAuth(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	noUser := start(t, Config{}, nil) // empty Username: nobody gets in
	tests := []struct {
		name       string
		b          *Broker
		user, pass string
		wantOK     bool
	}{
		{"correct credentials", b, testUser, testPass, true},
		{"anonymous", b, "", "", false},
		{"wrong password", b, testUser, "raspberry", false},
		{"wrong user", b, "admin", testPass, false},
		{"password prefix", b, testUser, testPass[:4], false},
		{"no user configured, anonymous", noUser, "", "", false},
		{"no user configured, any user", noUser, "x", "y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := connect(tcpURL(tt.b), tt.user, tt.pass, nil)
			if c != nil {
				defer c.Disconnect(100)
			}
			if (err == nil) != tt.wantOK {
				t.Fatalf("connect error = %v, want ok=%v", err, tt.wantOK)
			}
		})
	}
}

// The refusal is logged with the username, never with the password.
func TestRefusalLogHasNoPassword(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := start(t, Config{Username: testUser, Password: testPass}, log)
	if _, err := connect(tcpURL(b), testUser, "wrong-"+testPass, nil); err == nil {
		t.Fatal("wrong password accepted")
	}
	c := mustConnect(t, tcpURL(b), nil)
	c.Disconnect(100)
	out := buf.String()
	if !strings.Contains(out, "mqtt client refused") || !strings.Contains(out, testUser) {
		t.Errorf("refusal not logged:\n%s", out)
	}
	if strings.Contains(out, testPass) {
		t.Errorf("password in log:\n%s", out)
	}
}

func TestRetainedReachesLateSubscriber(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	pub := mustConnect(t, tcpURL(b), nil)
	wait(t, pub.Publish("pioreactor/u1/exp/stirring/$state", 2, true, "ready"))
	wait(t, pub.Publish("pioreactor/u1/exp/stirring/target_rpm", 2, true, "500"))
	wait(t, pub.Publish("pioreactor/u1/exp/stirring/target_rpm", 2, true, "")) // clears

	sub := mustConnect(t, tcpURL(b), nil)
	got := next(t, inbox(t, sub, "pioreactor/u1/exp/stirring/#"))
	if got.Topic() != "pioreactor/u1/exp/stirring/$state" || string(got.Payload()) != "ready" || !got.Retained() {
		t.Errorf("got %s=%q retained=%v, want $state=ready retained", got.Topic(), got.Payload(), got.Retained())
	}
}

func TestWebSocketSubscribeAndPublish(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	ws := mustConnect(t, "ws://"+b.WSAddr()+wsPath, nil)
	tcp := mustConnect(t, tcpURL(b), nil)
	fromTCP := inbox(t, ws, "pioreactor/+/exp/od_reading/od")
	fromWS := inbox(t, tcp, "ui/hello")

	payload := bytes.Repeat([]byte("x"), 70_000) // spans several websocket reads
	wait(t, tcp.Publish("pioreactor/u1/exp/od_reading/od", 1, false, payload))
	if m := next(t, fromTCP); !bytes.Equal(m.Payload(), payload) || m.Retained() {
		t.Errorf("ws client got %d bytes retained=%v", len(m.Payload()), m.Retained())
	}
	wait(t, ws.Publish("ui/hello", 1, false, "hi"))
	if m := next(t, fromWS); string(m.Payload()) != "hi" {
		t.Errorf("tcp client got %q", m.Payload())
	}
}

func TestWillOnDroppedConnectionOnly(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	obs := mustConnect(t, tcpURL(b), nil)

	// A client whose TCP connection vanishes without DISCONNECT: the will fires.
	var conn net.Conn
	withWill := func(topic string) func(*paho.ClientOptions) {
		return func(o *paho.ClientOptions) {
			o.SetBinaryWill(topic, []byte("lost"), 2, true)
			o.SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
				c, err := net.Dial("tcp", u.Host)
				conn = c
				return c, err
			})
		}
	}
	crashed := inbox(t, obs, "w/crash")
	if _, err := connect(tcpURL(b), testUser, testPass, withWill("w/crash")); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if m := next(t, crashed); string(m.Payload()) != "lost" {
		t.Errorf("will payload %q, want lost", m.Payload())
	}
	late := mustConnect(t, tcpURL(b), nil)
	if m := next(t, inbox(t, late, "w/crash")); string(m.Payload()) != "lost" || !m.Retained() {
		t.Errorf("retained will %q retained=%v", m.Payload(), m.Retained())
	}

	// A clean DISCONNECT: no will. Once mochi has forgotten the client, any will would
	// already be queued to the observer, so the sentinel published next must come first.
	clean := inbox(t, obs, "w/clean")
	c, err := connect(tcpURL(b), testUser, testPass, withWill("w/clean"))
	if err != nil {
		t.Fatal(err)
	}
	id := clientID(c)
	c.Disconnect(1000)
	deadline := time.Now().Add(waitFor)
	for _, ok := b.srv.Clients.Get(id); ok; _, ok = b.srv.Clients.Get(id) {
		if time.Now().After(deadline) {
			t.Fatal("broker did not drop the client")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wait(t, obs.Publish("w/clean", 1, false, "sentinel"))
	if m := next(t, clean); string(m.Payload()) != "sentinel" {
		t.Errorf("after clean disconnect got %q first, want sentinel", m.Payload())
	}
}

func clientID(c paho.Client) string {
	r := c.OptionsReader()
	return r.ClientID()
}

func TestListenPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // not defer: the parallel subtests run after return
	tests := []struct {
		name string
		cfg  Config
	}{
		{"tcp", Config{TCPAddr: ln.Addr().String()}},
		{"websocket", Config{TCPAddr: "127.0.0.1:0", WSAddr: ln.Addr().String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if b, err := Listen(tt.cfg, nil); err == nil {
				b.close()
				t.Fatal("Listen succeeded on a taken port")
			}
		})
	}
}

// mochi waits for every connection on Close; one that never sends CONNECT must not
// hold up shutdown (start's cleanup fails if Run does not return).
func TestShutdownWithSilentConnections(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	for _, addr := range []string{b.TCPAddr(), b.WSAddr()} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	mustConnect(t, "ws://"+b.WSAddr()+wsPath, nil)
	// Let the accept loops see the raw connections before shutdown begins.
	time.Sleep(50 * time.Millisecond)
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	b, err := Listen(Config{TCPAddr: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := b.Run(ctx); !errors.Is(err, ErrRunTwice) {
		t.Fatalf("second Run = %v, want ErrRunTwice", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the broker's goroutines to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Clients coming and going while the broker shuts down must not hang Run (mochi's own
// client-closing path deadlocks under exactly this churn; see conns).
func TestShutdownUnderChurn(t *testing.T) {
	t.Parallel()
	for range 5 {
		b, err := Listen(Config{TCPAddr: "127.0.0.1:0", Username: testUser, Password: testPass}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if c, err := connect(tcpURL(b), testUser, testPass, nil); err == nil {
						c.Disconnect(0)
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Fatal("Run did not return while clients churned")
		}
		close(stop)
		wg.Wait()
	}
}
