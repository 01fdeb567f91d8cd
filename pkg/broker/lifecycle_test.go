package broker

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

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
