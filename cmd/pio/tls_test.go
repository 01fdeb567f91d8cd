package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/internal/tlstest"
	"github.com/pioreactor/pioreactord/pkg/broker"
)

// pio reaches a TLS-only broker when [mqtt] use_tls=1 (trusting [mqtt] tls_ca_file), or
// when --broker says ssl://; a plain connection to the same port fails.
func TestBrokerOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert := tlstest.New(t)
	caFile, _ := cert.WriteFiles(t, dir)
	b, err := broker.Listen(broker.Config{TCPAddr: "127.0.0.1:0", Username: "pioreactor", Password: "raspberry",
		TLS: &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	writeConf := func(name, useTLS string) string {
		path := filepath.Join(dir, name, "config.ini")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		text := "[cluster.topology]\nleader_hostname=localhost\nleader_address=127.0.0.1\n[mqtt]\nusername=pioreactor\npassword=raspberry\nuse_tls=" + useTLS + "\ntls_ca_file=" + caFile + "\n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tlsConf, plainConf := writeConf("tls", "1"), writeConf("plain", "0")
	for _, tc := range []struct {
		name, conf, broker string
		wantOK             bool
	}{
		{"use_tls=1", tlsConf, b.TCPAddr(), true},
		{"ssl:// broker", plainConf, "ssl://" + b.TCPAddr(), true},
		{"plain", plainConf, b.TCPAddr(), false},
		{"tcp:// overrides use_tls", tlsConf, "tcp://" + b.TCPAddr(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			env := map[string]string{"PIO_URL": "http://127.0.0.1:1"}
			code := run(context.Background(), []string{"pio", "--config", tc.conf, "--broker", tc.broker, "mqtt", "-n", "0"},
				func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
			if (code == 0) != tc.wantOK {
				t.Errorf("exit %d, want ok=%v; stderr: %s", code, tc.wantOK, errOut.String())
			}
		})
	}
}
