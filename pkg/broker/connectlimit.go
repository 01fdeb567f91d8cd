package broker

import (
	"errors"
	"net"
)

// maxConnectSize bounds a client's first packet, its CONNECT. mochi reads a whole packet
// before authenticating it, so without this bound anyone who can reach the port, with no
// credentials, could make the broker buffer Config.MaxPacketSize per connection. A CONNECT
// carries a client id, credentials and a last will: a few hundred bytes in practice.
const maxConnectSize = 64 << 10

var errConnectTooLarge = errors.New("first packet larger than a CONNECT may be")

// firstPacketLimit fails the read that reveals a first packet longer than max, so the
// connection ends before its body is buffered. It decodes only the fixed header (a type
// byte and the remaining length, a 1–4 byte varint, MQTT 3.1.1 §2.2.3) as it streams by.
type firstPacketLimit struct {
	net.Conn
	max    int
	header int // fixed-header bytes seen so far
	length int // remaining length decoded so far
	shift  uint
	done   bool
}

func (c *firstPacketLimit) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for i := 0; i < n && !c.done; i++ {
		c.header++
		if c.header == 1 {
			continue // packet type and flags
		}
		b := p[i]
		c.length += int(b&0x7f) << c.shift
		c.shift += 7
		if b&0x80 == 0 || c.header == 5 {
			c.done = true
		}
		if c.length > c.max {
			return 0, errConnectTooLarge
		}
	}
	return n, err
}
