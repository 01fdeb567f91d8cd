package ingest_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// rawPublisher is a minimal MQTT 3.1.1 publisher for load tests: it writes pre-encoded
// QoS 1 PUBLISH packets with up to window unacknowledged at a time and counts PUBACKs, so
// that simulating a thousand workers costs the benchmark little CPU beside the leader's.
type rawPublisher struct {
	conn   net.Conn
	w      *bufio.Writer
	window chan struct{}
	acked  atomic.Int64
	nextID uint16
	done   chan error
}

func dialRaw(addr, clientID, user, pass string, window int) (*rawPublisher, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &rawPublisher{conn: conn, w: bufio.NewWriterSize(conn, 64<<10), window: make(chan struct{}, window), done: make(chan error, 1)}
	var vh []byte
	vh = appendStr(vh, "MQTT")
	vh = append(vh, 4, 0xC2) // protocol level 4; username, password, clean session
	vh = binary.BigEndian.AppendUint16(vh, 60)
	vh = appendStr(vh, clientID)
	vh = appendStr(vh, user)
	vh = appendStr(vh, pass)
	if _, err := conn.Write(packet(0x10, vh)); err != nil {
		conn.Close()
		return nil, err
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(conn, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		conn.Close()
		return nil, fmt.Errorf("connack %x: %v", ack, err)
	}
	go p.readAcks()
	return p, nil
}

func (p *rawPublisher) readAcks() {
	r := bufio.NewReader(p.conn)
	for {
		h, err := r.ReadByte()
		if err != nil {
			p.done <- err
			return
		}
		n, err := binary.ReadUvarint(r)
		if err != nil {
			p.done <- err
			return
		}
		if _, err := r.Discard(int(n)); err != nil {
			p.done <- err
			return
		}
		if h>>4 == 4 { // PUBACK
			p.acked.Add(1)
			<-p.window
		}
	}
}

// publish queues one QoS 1 message, waiting while window messages are unacknowledged.
func (p *rawPublisher) publish(topic string, payload []byte) error {
	select {
	case p.window <- struct{}{}:
	default:
		if err := p.w.Flush(); err != nil {
			return err
		}
		p.window <- struct{}{}
	}
	p.nextID++
	if p.nextID == 0 {
		p.nextID = 1
	}
	body := appendStr(nil, topic)
	body = binary.BigEndian.AppendUint16(body, p.nextID)
	body = append(body, payload...)
	_, err := p.w.Write(packet(0x32, body)) // PUBLISH, QoS 1
	return err
}

func (p *rawPublisher) flush() error { return p.w.Flush() }

// wait blocks until n messages are acknowledged or the timeout passes.
func (p *rawPublisher) wait(n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for p.acked.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func (p *rawPublisher) close() {
	_, _ = p.conn.Write([]byte{0xE0, 0}) // DISCONNECT
	_ = p.conn.Close()
}

func appendStr(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

func packet(header byte, body []byte) []byte {
	out := binary.AppendUvarint([]byte{header}, uint64(len(body)))
	return append(out, body...)
}
