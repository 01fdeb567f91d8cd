package broker

import (
	"crypto/tls"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// With TLS, the TCP and WebSocket listeners speak only TLS; the local listener stays plain
// for the daemon's own clients.
func TestTLSListeners(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	b := start(t, Config{WSAddr: "127.0.0.1:0", LocalAddr: "127.0.0.1:0", Username: testUser, Password: testPass,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, nil)
	trusting := func(o *paho.ClientOptions) { o.SetTLSConfig(&tls.Config{RootCAs: pool}) }
	tests := []struct {
		name   string
		url    string
		opts   func(*paho.ClientOptions)
		wantOK bool
	}{
		{"mqtts", "ssl://" + b.TCPAddr(), trusting, true},
		{"wss", "wss://" + b.WSAddr() + wsPath, trusting, true},
		{"local plain", "tcp://" + b.LocalAddr(), nil, true},
		{"plain tcp to the tls port", "tcp://" + b.TCPAddr(), nil, false},
		{"plain ws to the wss port", "ws://" + b.WSAddr() + wsPath, nil, false},
		{"untrusted certificate", "ssl://" + b.TCPAddr(), func(o *paho.ClientOptions) { o.SetTLSConfig(&tls.Config{}) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := connect(tt.url, testUser, testPass, tt.opts)
			if c != nil {
				defer c.Disconnect(100)
			}
			if (err == nil) != tt.wantOK {
				t.Fatalf("connect = %v, want ok=%v", err, tt.wantOK)
			}
		})
	}
	// One message across: the TLS client reaches the local one.
	sub := mustConnect(t, "tcp://"+b.LocalAddr(), nil)
	got := inbox(t, sub, "tls/check")
	pub := mustConnect(t, "ssl://"+b.TCPAddr(), trusting)
	wait(t, pub.Publish("tls/check", 1, false, "over tls"))
	if m := next(t, got); string(m.Payload()) != "over tls" {
		t.Errorf("got %q", m.Payload())
	}
}
