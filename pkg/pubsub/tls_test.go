package pubsub_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/internal/tlstest"
	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// A client trusting the broker's certificate through ClientTLS reaches a TLS-only broker and
// exchanges messages; a plain client, and one that does not trust the certificate, do not.
func TestTLSDialer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, caFile := selfSignedFiles(t, dir)
	b, err := broker.Listen(broker.Config{TCPAddr: "127.0.0.1:0", LocalAddr: "127.0.0.1:0", Username: user, Password: pass,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	trusting, err := pubsub.ClientTLS(caFile)
	if err != nil {
		t.Fatalf("ClientTLS: %v", err)
	}
	c := dial(t, pubsub.NewTLSDialer(b.TCPAddr(), user, pass, trusting, nil), pubsub.Options{ClientID: clientID("tls")})
	local := dial(t, pubsub.NewDialer(b.LocalAddr(), user, pass, nil), pubsub.Options{ClientID: clientID("local")})
	got := subscribe(t, local, "tls/check")
	publish(t, c, "tls/check", "over tls", false)
	eventually(t, "the message sent over TLS", hasN(got, 1))
	if m := got.got()[0]; string(m.Payload) != "over tls" {
		t.Errorf("got %q", m.Payload)
	}

	system, err := pubsub.ClientTLS("")
	if err != nil {
		t.Fatalf("ClientTLS without a CA file: %v", err)
	}
	for name, d := range map[string]pubsub.Dialer{
		"plain tcp to the tls port": pubsub.NewDialer(b.TCPAddr(), user, pass, nil),
		"untrusted certificate":     pubsub.NewTLSDialer(b.TCPAddr(), user, pass, system, nil),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Each attempt fails at once; the deadline only ends Dial's retries.
			dctx, dcancel := context.WithTimeout(t.Context(), time.Second)
			defer dcancel()
			if c, err := d.Dial(dctx, pubsub.Options{ClientID: clientID("refused")}); err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
		})
	}
}

// ClientTLS names the file it cannot use.
func TestClientTLSBadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pubsub.ClientTLS(notPEM); !errors.Is(err, pubsub.ErrNoCertificate) {
		t.Errorf("not PEM: err = %v, want ErrNoCertificate", err)
	}
	if _, err := pubsub.ClientTLS(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: err = %v, want not exist", err)
	}
}

// selfSignedFiles makes a certificate for 127.0.0.1 and writes it as a PEM CA file.
func selfSignedFiles(t *testing.T, dir string) (tls.Certificate, string) {
	t.Helper()
	c := tlstest.New(t)
	caFile, _ := c.WriteFiles(t, dir)
	return c.TLS, caFile
}
