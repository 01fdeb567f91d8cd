package broker

import (
	"bytes"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

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
