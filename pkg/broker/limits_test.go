package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const testMaxPacket = 256 << 10

func TestMaxPacketSizeConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      int
		want    uint32
		wantErr bool
	}{
		{0, DefaultMaxPacketSize, false},
		{testMaxPacket, testMaxPacket, false},
		{-1, 0, true},
		{100, 0, true},
		{maxRemaining + 1, 0, true},
	} {
		got, err := Config{MaxPacketSize: tt.in}.maxPacketSize()
		if got != tt.want || (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrPacketSize)) {
			t.Errorf("maxPacketSize(%d) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// A client announcing a packet over the limit is disconnected as soon as the broker reads
// the packet's length, before it buffers the body. A v3.1.1 client (mosquitto_pub's
// default) is held to the limit like a v5 one.
func TestOversizedPacketDisconnectsBeforeBody(t *testing.T) {
	t.Parallel()
	b := start(t, Config{Username: testUser, Password: testPass, MaxPacketSize: testMaxPacket}, nil)
	before := atomic.LoadInt64(&b.srv.Info.BytesReceived)
	c := rawConnect(t, b.TCPAddr(), "big-sender")
	// A PUBLISH of 1 MiB, of which only the topic is sent: an unlimited broker would now
	// allocate 1 MiB and wait for the rest.
	topic := "pioreactor/u1/exp/stirring/target_rpm/set"
	var pk bytes.Buffer
	pk.WriteByte(0x30) // PUBLISH, QoS 0
	pk.Write(remainingLength(1 << 20))
	pk.Write(binary.BigEndian.AppendUint16(nil, uint16(len(topic))))
	pk.WriteString(topic)
	if _, err := c.Write(pk.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("broker is still waiting for the body of a 1 MiB packet")
	}
	if err == nil {
		t.Fatal("broker answered an oversized packet instead of disconnecting")
	}
	if got := atomic.LoadInt64(&b.srv.Info.BytesReceived) - before; got > 1<<10 {
		t.Errorf("broker read %d bytes", got)
	}
}

// Over TCP and WebSocket: a payload just under the limit is delivered; one of 1 MiB ends
// the sender's connection and reaches nobody.
func TestMaxPacketSize(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	b := start(t, Config{WSAddr: "127.0.0.1:0", Username: testUser, Password: testPass, MaxPacketSize: testMaxPacket}, log)
	sub := mustConnect(t, tcpURL(b), nil)
	got := inbox(t, sub, "big/#")
	for _, url := range []string{tcpURL(b), "ws://" + b.WSAddr() + wsPath} {
		t.Run(url[:2], func(t *testing.T) {
			lost := make(chan struct{}, 1)
			pub := mustConnect(t, url, func(o *paho.ClientOptions) {
				o.SetConnectionLostHandler(func(paho.Client, error) { lost <- struct{}{} })
			})
			topic := "big/" + url[:2]
			fits := bytes.Repeat([]byte("f"), testMaxPacket-len(topic)-100)
			wait(t, pub.Publish(topic, 1, false, fits))
			if m := next(t, got); m.Topic() != topic || len(m.Payload()) != len(fits) {
				t.Fatalf("got %s with %d bytes, want %s with %d", m.Topic(), len(m.Payload()), topic, len(fits))
			}

			pub.Publish(topic, 1, false, bytes.Repeat([]byte("x"), 1<<20))
			select {
			case <-lost:
			case <-time.After(waitFor):
				t.Fatal("sender of a 1 MiB packet still connected")
			}
			// Anything delivered after the refusal would arrive before this sentinel.
			other := mustConnect(t, tcpURL(b), nil)
			wait(t, other.Publish(topic, 1, false, "sentinel"))
			if m := next(t, got); string(m.Payload()) != "sentinel" {
				t.Fatalf("got %d bytes on %s, want the sentinel", len(m.Payload()), m.Topic())
			}
		})
	}
	// mochi calls the disconnect hook just after closing the connection.
	warnings := func() int { return strings.Count(logs.String(), "packet larger than the broker's maximum") }
	for deadline := time.Now().Add(waitFor); warnings() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := warnings(); n != 2 {
		t.Errorf("%d warnings for 2 oversized packets:\n%s", n, logs.String())
	}
}

// rawConnect opens a TCP connection and completes an MQTT 3.1.1 CONNECT by hand.
func rawConnect(t *testing.T, addr, id string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	str := func(b *bytes.Buffer, s string) {
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(s))))
		b.WriteString(s)
	}
	var body bytes.Buffer
	str(&body, "MQTT")
	body.Write([]byte{4, 0xC2, 0, 60}) // level 4, username+password+clean session, keepalive 60 s
	str(&body, id)
	str(&body, testUser)
	str(&body, testPass)
	pk := append([]byte{0x10}, remainingLength(body.Len())...)
	if _, err := c.Write(append(pk, body.Bytes()...)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	ack := make([]byte, 4)
	if _, err := io.ReadFull(c, ack); err != nil {
		t.Fatal(err)
	}
	if ack[0] != 0x20 || ack[3] != 0 {
		t.Fatalf("CONNACK % x", ack)
	}
	return c
}

// remainingLength encodes n as MQTT's variable-length integer.
func remainingLength(n int) []byte {
	var out []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			return out
		}
	}
}

// Before authentication, a CONNECT announcing more than maxConnectSize ends the connection
// on its header: no one without credentials makes the broker buffer a large packet.
func TestOversizedConnectDisconnectsBeforeBody(t *testing.T) {
	t.Parallel()
	b := start(t, Config{WSAddr: "127.0.0.1:0", Username: testUser, Password: testPass}, nil)
	c, err := net.Dial("tcp", b.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pk := append([]byte{0x10}, remainingLength(DefaultMaxPacketSize-10)...) // a CONNECT within the packet limit
	if _, err := c.Write(append(pk, 0, 4, 'M', 'Q', 'T', 'T', 4)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("broker is waiting for the body of a 1 MiB CONNECT")
	}
	if err == nil {
		t.Fatal("broker answered an oversized CONNECT")
	}
}

func TestFirstPacketLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		length  int
		chunks  int // the header arrives in reads of this many bytes
		wantErr bool
	}{
		{"small", 100, 64, false},
		{"at the limit", maxConnectSize, 64, false},
		{"over the limit", maxConnectSize + 1, 64, true},
		{"over, a byte per read", maxConnectSize + 1, 1, true},
		{"huge, a byte per read", 1 << 27, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server, client := net.Pipe()
			defer server.Close()
			go func() {
				defer client.Close()
				msg := append(append([]byte{0x10}, remainingLength(tt.length)...), make([]byte, 10)...)
				for len(msg) > 0 {
					k := min(tt.chunks, len(msg))
					if _, err := client.Write(msg[:k]); err != nil {
						return
					}
					msg = msg[k:]
				}
			}()
			c := &firstPacketLimit{Conn: server, max: maxConnectSize}
			var err error
			buf := make([]byte, 64)
			for err == nil {
				_, err = c.Read(buf)
			}
			if gotErr := errors.Is(err, errConnectTooLarge); gotErr != tt.wantErr {
				t.Fatalf("read error %v, want too large: %v", err, tt.wantErr)
			}
		})
	}
}
