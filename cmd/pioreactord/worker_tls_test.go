package main

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// A worker in its own process reaches a leader whose broker speaks TLS only when [mqtt]
// use_tls=1 and tls_ca_file trusts the leader's certificate: its messages arrive.
func TestWorkerOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.Listen(broker.Config{TCPAddr: "127.0.0.1:0", LocalAddr: "127.0.0.1:0", Username: "pioreactor", Password: "raspberry",
		TLS: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bctx, stopBroker := context.WithCancel(context.Background())
	brokerDone := make(chan error, 1)
	go func() { brokerDone <- b.Run(bctx) }()
	t.Cleanup(func() { stopBroker(); <-brokerDone })
	watch, err := pubsub.NewDialer(b.LocalAddr(), "pioreactor", "raspberry", nil).Dial(t.Context(), pubsub.Options{ClientID: "watch"})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	seen := make(chan string, 1)
	if err := watch.Subscribe(t.Context(), "pioreactor/pio01/#", pubsub.AtLeastOnce, func(m pubsub.Message) {
		select {
		case seen <- m.Topic:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}

	conf := leaderConfig(t, dir, [3]string{"mqtt", "use_tls", "1"}, [3]string{"mqtt", "tls_ca_file", certFile})
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--sim", "--role", "worker", "--unit", "pio01", "--config", conf, "--data-dir", dir,
			"--broker", b.TCPAddr(), "--http", "127.0.0.1:0"}, out, out)
	}()
	select {
	case topic := <-seen:
		t.Logf("first message from the worker: %s", topic)
	case err := <-done:
		t.Fatalf("worker returned %v:\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Errorf("no message from the worker over TLS:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("worker run: %v", err)
	}
}
