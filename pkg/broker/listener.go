package broker

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// handshakeTimeout bounds the wait for a client's CONNECT packet. mochi sets no deadline
// before CONNECT, so without one a silent connection holds a goroutine forever.
// After CONNECT mochi replaces the deadline with 1.5 × the client's keepalive.
const handshakeTimeout = 10 * time.Second

// conns tracks connections from accept until mochi is done with them. mochi's Close only
// disconnects clients that finished CONNECT and then waits for every connection, so a
// connection still in its handshake would stall shutdown; Close here ends those too.
type conns struct {
	mu     sync.Mutex
	set    map[net.Conn]struct{}
	closed bool
}

// add registers c, or closes it and returns false if the listener is already closed.
func (s *conns) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return false
	}
	if s.set == nil {
		s.set = make(map[net.Conn]struct{})
	}
	s.set[c] = struct{}{}
	return true
}

func (s *conns) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, c)
}

func (s *conns) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.set {
		_ = c.Close()
	}
}

// serveConn runs one connection through mochi. establish returns when the client is gone.
func serveConn(id string, c net.Conn, cs *conns, establish listeners.EstablishFn, log *slog.Logger) {
	if !cs.add(c) {
		return
	}
	defer cs.remove(c)
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := establish(id, c); err != nil {
		log.Debug("mqtt connection ended", "remote", c.RemoteAddr().String(), "err", err)
	}
}

// tcpListener is a mochi listener over a net.Listener we bound ourselves, so the real
// port is known before serving. (mochi's listeners.Net would do, but it cannot end
// connections that are still in their handshake.)
type tcpListener struct {
	id    string
	ln    net.Listener
	log   *slog.Logger
	conns conns
}

var _ listeners.Listener = (*tcpListener)(nil)

func newTCPListener(id string, ln net.Listener) *tcpListener {
	return &tcpListener{id: id, ln: ln}
}

func (l *tcpListener) ID() string       { return l.id }
func (l *tcpListener) Address() string  { return l.ln.Addr().String() }
func (l *tcpListener) Protocol() string { return "tcp" }

func (l *tcpListener) Init(log *slog.Logger) error {
	l.log = log
	return nil
}

// Serve accepts until the listener is closed.
func (l *tcpListener) Serve(establish listeners.EstablishFn) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go serveConn(l.id, c, &l.conns, establish, l.log)
	}
}

// Close stops accepting, then ends connected clients (closeClients sends them a
// DISCONNECT) and any connection still in its handshake.
func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	_ = l.ln.Close()
	closeClients(l.id)
	l.conns.closeAll()
}
