package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/internal/tlstest"
)

// records keeps every slog record it is handed.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(msg string) (slog.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == msg {
			return rec, true
		}
	}
	return slog.Record{}, false
}

// A failed TLS handshake on an HTTPS listener is logged at Debug through slog, not printed
// on stderr by the std log package. Not parallel: it watches the std logger's output.
func TestServeTLSHandshakeErrorToSlog(t *testing.T) {
	var std bytes.Buffer
	log.SetOutput(&std)
	defer log.SetOutput(os.Stderr)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MinVersion: tls.VersionTLS12})
	recs := &records{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, tln, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), slog.New(recs))
	}()
	// Plain HTTP to the HTTPS port: the handshake fails on the server.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + ln.Addr().String() + "/")
	if err == nil {
		resp.Body.Close()
	}
	var rec slog.Record
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var ok bool
		if rec, ok = recs.find("http tls handshake failed"); ok || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if rec.Message == "" {
		t.Fatalf("no slog record of the failed handshake; std log got %q", std.String())
	}
	if rec.Level != slog.LevelDebug {
		t.Errorf("level %v, want DEBUG", rec.Level)
	}
	if s := std.String(); strings.Contains(s, "TLS handshake") {
		t.Errorf("std log got %q", s)
	}
}

// The rest of the server's complaints are warnings.
func TestServerErrorLogLevels(t *testing.T) {
	t.Parallel()
	recs := &records{}
	l := serverErrorLog(slog.New(recs))
	l.Printf("http: Accept error: too many open files; retrying in 5ms")
	rec, ok := recs.find("http server")
	if !ok || rec.Level != slog.LevelWarn {
		t.Errorf("accept error: %v %v, want a WARN record", ok, rec.Level)
	}
	serverErrorLog(nil).Printf("dropped") // a nil logger discards, never panics
}

func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	return tlstest.New(t).TLS
}
