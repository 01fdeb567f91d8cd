package tlstest

import (
	"crypto/tls"
	"testing"
)

// The certificate serves a TLS handshake on 127.0.0.1 that a client trusting Pool accepts,
// and the files load back as a key pair.
func TestCertServesLoopback(t *testing.T) {
	c := New(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: c.Pool})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	certFile, keyFile := c.WriteFiles(t, t.TempDir())
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
}
