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

// conns tracks connections from accept until mochi is done with them, so that a listener's
// Close can end every one of them itself. It must, for three reasons (mochi v2.7.9):
//
//   - mochi's CloseFn only reaches clients that finished CONNECT, then mochi waits for
//     every connection, so one still in its handshake would stall shutdown.
//   - mochi's CloseFn can deadlock: Clients.GetByListener read-locks the client map and
//     then read-locks it again (Clients.Len); a client disconnecting at that moment queues
//     a write lock in between and neither proceeds. So our listeners never call it.
//   - mochi counts connections in a WaitGroup whose Add runs inside establish, which may
//     race with the Wait in its Close. So closeAll waits for every establish call to
//     return and none starts after it: mochi's Wait then always finds the count at zero.
//
// Closing the connection is also what MQTT 3.1.1 expects of a server shutting down (it
// has no server-sent DISCONNECT). As with any unclean end, mochi then publishes wills.
type conns struct {
	mu      sync.Mutex
	set     map[net.Conn]struct{}
	closed  bool
	serving sync.WaitGroup // one per connection in set; Add only under mu while !closed
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
	s.serving.Add(1)
	return true
}

func (s *conns) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, c)
	s.serving.Done()
}

// closeAll closes every connection, refuses new ones, and waits until mochi is done
// with all of them (closed, they end at once).
func (s *conns) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.set {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.serving.Wait()
}

// serveConn runs one connection through mochi, its CONNECT bounded (firstPacketLimit).
// establish returns when the client is gone.
func serveConn(id string, c net.Conn, cs *conns, establish listeners.EstablishFn, log *slog.Logger) {
	if !cs.add(c) {
		return
	}
	defer cs.remove(c)
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := establish(id, &firstPacketLimit{Conn: c, max: maxConnectSize}); err != nil {
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

// Close stops accepting and closes every connection (see conns for why not closeClients).
func (l *tcpListener) Close(listeners.CloseFn) {
	_ = l.ln.Close()
	l.conns.closeAll()
}
