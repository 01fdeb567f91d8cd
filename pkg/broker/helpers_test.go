package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/pioreactor/pioreactord/internal/logtest"
	"github.com/pioreactor/pioreactord/internal/tlstest"
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

func clientID(c paho.Client) string {
	r := c.OptionsReader()
	return r.ClientID()
}

// syncBuffer is a buffer safe for the broker's goroutines to log into.
type syncBuffer = logtest.Buffer

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	c := tlstest.New(t)
	return c.TLS, c.Pool
}
