package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/pioreactor/pioreactord/internal/tlstest"
	"github.com/pioreactor/pioreactord/pkg/config"
)

const testAPIKey = "test-key"

// leaderConfig writes a leader's config.ini: the template with a topology, an API key and
// the given [section] key=value changes (keys the template has).
func leaderConfig(t *testing.T, dir string, set ...[3]string) string {
	t.Helper()
	set = append([][3]string{
		{"cluster.topology", "leader_hostname", "leader"},
		{"cluster.topology", "leader_address", "127.0.0.1"},
	}, set...)
	lines := strings.Split(string(config.Template()), "\n")
	section := ""
	for i, l := range lines {
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(strings.TrimSpace(l), "[]")
		}
		for _, s := range set {
			if section == s[0] && strings.HasPrefix(l, s[1]+"=") {
				lines[i] = s[1] + "=" + s[2]
			}
		}
	}
	text := strings.Join(lines, "\n") + "\n[ui_basic_auth]\napi_key=" + testAPIKey + "\n"
	path := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// leaderArgs run a leader outside --sim on loopback ports.
func leaderArgs(dir, conf string, extra ...string) []string {
	return append([]string{"--role", "leader", "--unit", "leader", "--config", conf, "--data-dir", dir,
		"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0"}, extra...)
}

// Outside --sim a leader refuses to start a broker that would let anyone in, and a TLS
// half-configured or unloadable; each error names the keys to fix.
func TestLeaderRefusesUnsafeListeners(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		set  [][3]string
		want string
	}{
		{"empty mqtt password", [][3]string{{"mqtt", "password", ""}}, "[mqtt] password"},
		{"empty mqtt user", [][3]string{{"mqtt", "username", ""}}, "[mqtt] username"},
		{"mqtt cert without key", [][3]string{{"mqtt", "tls_cert_file", certFile}}, "[mqtt] tls_cert_file and tls_key_file"},
		{"http key without cert", [][3]string{{"ui", "tls_key_file", keyFile}}, "[ui] tls_cert_file and tls_key_file"},
		{"http cert does not load", [][3]string{{"ui", "tls_cert_file", missing}, {"ui", "tls_key_file", keyFile}}, "[ui] tls_cert_file"},
		{"mqtt key is the cert", [][3]string{{"mqtt", "tls_cert_file", certFile}, {"mqtt", "tls_key_file", certFile}}, "[mqtt] tls_cert_file"},
		{"max packet size too small", [][3]string{{"mqtt", "max_packet_size", "10"}}, "[mqtt] max_packet_size (error in [mqtt] parameter max_packet_size: 10 is out of range 1024 to 268435455)"},
		{"max packet size not a number", [][3]string{{"mqtt", "max_packet_size", "big"}}, "max_packet_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Were the leader to start, it would run until this context ends: the test
			// then fails on a nil error, late but surely.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, leaderArgs(dir, leaderConfig(t, dir, tt.set...)), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// Outside --sim the listeners bind where config.ini says unless a flag says otherwise;
// --sim keeps everything on loopback.
func TestListenFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bound := leaderConfig(t, t.TempDir(), [3]string{"mqtt", "bind_address", "10.0.0.5"}, [3]string{"mqtt", "broker_port", "1999"},
		[3]string{"mqtt", "broker_ws_port", "9999"}, [3]string{"ui", "bind_address", "::1"}, [3]string{"ui", "port", "8080"})
	tests := []struct {
		name              string
		args              []string
		conf              string
		wantErr           bool
		http, mqtt, wsOut string
	}{
		{"every interface by default", []string{"--role", "leader"}, leaderConfig(t, dir), false, ":80", ":1883", ":9001"},
		{"bound by config", []string{"--role", "leader"}, bound, false, "[::1]:8080", "10.0.0.5:1999", "10.0.0.5:9999"},
		{"flags win", []string{"--role", "leader", "--http", "127.0.0.1:1", "--mqtt", "127.0.0.1:2", "--ws", "127.0.0.1:3"}, bound, false,
			"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"},
		{"sim stays on loopback", []string{"--sim"}, bound, false, "127.0.0.1:4999", "127.0.0.1:1883", "127.0.0.1:9001"},
		{"bad port", []string{"--role", "leader"}, leaderConfig(t, t.TempDir(), [3]string{"ui", "port", "eighty"}), true, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := config.Load(tt.conf, filepath.Join(t.TempDir(), "unit_config.ini"))
			if err != nil {
				t.Fatal(err)
			}
			err = o.listenFromConfig(conf)
			if (err != nil) != tt.wantErr {
				t.Fatalf("listenFromConfig = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && (o.httpAddr != tt.http || o.mqttAddr != tt.mqtt || o.wsAddr != tt.wsOut) {
				t.Errorf("http %q mqtt %q ws %q, want %q %q %q", o.httpAddr, o.mqttAddr, o.wsAddr, tt.http, tt.mqtt, tt.wsOut)
			}
		})
	}
}

var (
	httpsLine = regexp.MustCompile(`HTTP API\s+https://(\S+)`)
	mqttsLine = regexp.MustCompile(`MQTT\s+(\S+) over TLS`)
	wssLine   = regexp.MustCompile(`WebSocket\s+wss://(\S+)/mqtt`)
	// errors of the broker and the HTTP servers (others' start-up races are not this test's)
	listenerError = regexp.MustCompile(`level=ERROR.*(component=mochi|msg="(mqtt|http))`)
)

// With certificates configured the leader serves HTTPS, MQTT over TLS and WSS only, its
// own clients still connect (it starts, and its log sink and API reach the broker), and a
// clean stop logs no error from the listeners.
func TestLeaderOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir)
	conf := leaderConfig(t, dir,
		[3]string{"mqtt", "tls_cert_file", certFile}, [3]string{"mqtt", "tls_key_file", keyFile},
		[3]string{"ui", "tls_cert_file", certFile}, [3]string{"ui", "tls_key_file", keyFile})
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, leaderArgs(dir, conf), out, out) }()
	var httpAddr, mqttAddr, wsAddr string
	for deadline := time.Now().Add(20 * time.Second); httpAddr == "" || mqttAddr == "" || wsAddr == ""; {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner with TLS addresses:\n%s", out.String())
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v:\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		s := out.String()
		if m, n, w := httpsLine.FindStringSubmatch(s), mqttsLine.FindStringSubmatch(s), wssLine.FindStringSubmatch(s); m != nil && n != nil && w != nil {
			httpAddr, mqttAddr, wsAddr = m[1], n[1], w[1]
		}
	}

	t.Run("https", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		req, _ := http.NewRequest(http.MethodGet, "https://"+httpAddr+"/unit_api/health", nil)
		req.Header.Set("Authorization", "Basic "+testAPIKey)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET health over https: %d", resp.StatusCode)
		}
		// Plain HTTP to the HTTPS port gets no answer from the API.
		resp, err = (&http.Client{Timeout: 10 * time.Second}).Get("http://" + httpAddr + "/unit_api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain GET on the https port: %d", resp.StatusCode)
			}
		}
	})
	t.Run("mqtt", func(t *testing.T) {
		mq, _ := config.LoadDefault().MQTT()
		for _, tc := range []struct {
			url    string
			wantOK bool
		}{
			{"ssl://" + mqttAddr, true},
			{"wss://" + wsAddr + "/mqtt", true},
			{"tcp://" + mqttAddr, false},
			{"ws://" + wsAddr + "/mqtt", false},
		} {
			o := paho.NewClientOptions().AddBroker(tc.url).SetClientID("tls-test").SetProtocolVersion(4).
				SetUsername(mq.Username).SetPassword(mq.Password).SetAutoReconnect(false).
				SetConnectTimeout(10 * time.Second).SetTLSConfig(&tls.Config{RootCAs: pool})
			c := paho.NewClient(o)
			tok := c.Connect()
			if !tok.WaitTimeout(15 * time.Second) {
				t.Fatalf("%s: connect timed out", tc.url)
			}
			if (tok.Error() == nil) != tc.wantOK {
				t.Errorf("%s: connect = %v, want ok=%v", tc.url, tok.Error(), tc.wantOK)
			}
			c.Disconnect(100)
		}
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("leader did not stop")
	}
	if s := out.String(); listenerError.MatchString(s) {
		t.Errorf("errors logged:\n%s", s)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	c := tlstest.New(t)
	certFile, keyFile = c.WriteFiles(t, dir)
	return certFile, keyFile, c.Pool
}
