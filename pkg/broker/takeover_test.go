package broker

import (
	"errors"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// A client on a public listener cannot take over a session of the daemon's own clients
// (those on the local listener); other takeovers work as MQTT says.
func TestTakeoverOfDaemonClientRefused(t *testing.T) {
	t.Parallel()
	b := start(t, Config{WSAddr: "127.0.0.1:0", LocalAddr: "127.0.0.1:0", Username: testUser, Password: testPass}, nil)
	local, tcp, ws := "tcp://"+b.LocalAddr(), tcpURL(b), "ws://"+b.WSAddr()+wsPath
	tests := []struct {
		name          string
		first, second string // URLs of the holder of the id and of the newcomer
		pass          string // the newcomer's password
		keepSession   bool   // the holder disconnected, its session kept (clean session false)
		wantErr       error  // the newcomer's refusal, nil if it gets in
	}{
		{"tcp takes over daemon's", local, tcp, testPass, false, packets.ErrorRefusedIDRejected},
		{"websocket takes over daemon's", local, ws, testPass, false, packets.ErrorRefusedIDRejected},
		{"tcp takes daemon's kept session", local, tcp, testPass, true, packets.ErrorRefusedIDRejected},
		{"wrong password learns nothing", local, tcp, "wrong", false, packets.ErrorRefusedNotAuthorised},
		{"daemon reconnects", local, local, testPass, false, nil},
		{"public client reconnects", tcp, tcp, testPass, false, nil},
		{"daemon takes over a public id", tcp, local, testPass, false, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := "leader-api-pio01-" + string(rune('a'+i))
			lost := make(chan error, 1)
			holder := mustConnect(t, tt.first, func(o *paho.ClientOptions) {
				o.SetClientID(id).SetCleanSession(!tt.keepSession)
				o.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
			})
			if tt.keepSession {
				holder.Disconnect(100)
			}
			c, err := connect(tt.second, testUser, tt.pass, func(o *paho.ClientOptions) { o.SetClientID(id) })
			if c != nil {
				defer c.Disconnect(100)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("newcomer's connect = %v, want %v", err, tt.wantErr)
			}
			if tt.keepSession {
				return
			}
			if tt.wantErr == nil {
				select { // the newcomer took the session over: the holder is out
				case <-lost:
				case <-time.After(waitFor):
					t.Fatal("holder still connected after a takeover")
				}
				return
			}
			// Refused: the holder still works (a kicked holder's round trip fails).
			topic := "check/" + id
			got := inbox(t, holder, topic)
			wait(t, holder.Publish(topic, 1, false, "still here"))
			if m := next(t, got); string(m.Payload()) != "still here" {
				t.Fatalf("holder got %q", m.Payload())
			}
			select {
			case err := <-lost:
				t.Fatalf("holder lost its connection: %v", err)
			default:
			}
		})
	}
}
