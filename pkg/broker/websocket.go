package broker

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// wsPath is where browsers connect (docs/mqtt.md, "Broker and connections").
const wsPath = "/mqtt"

// wsListener serves MQTT over WebSocket on a net.Listener we bound ourselves; mochi's own
// websocket listener insists on binding its address, so its real port (port 0) is unknown.
type wsListener struct {
	id        string
	ln        net.Listener
	log       *slog.Logger
	srv       *http.Server
	upgrader  websocket.Upgrader
	establish listeners.EstablishFn // set by Serve before the first request can arrive
	conns     conns
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id string, ln net.Listener) *wsListener {
	l := &wsListener{
		id: id,
		ln: ln,
		upgrader: websocket.Upgrader{
			Subprotocols: []string{"mqtt"},
			// The dashboard may be served from another origin (port); MQTT credentials,
			// not the Origin header, decide who gets in.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(wsPath, l.serveHTTP)
	l.srv = &http.Server{
		Handler: mux,
		// Only the header read is bounded: after the upgrade, MQTT keepalive rules.
		ReadHeaderTimeout: handshakeTimeout,
	}
	return l
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Address() string  { return l.ln.Addr().String() }
func (l *wsListener) Protocol() string { return "ws" }

func (l *wsListener) Init(log *slog.Logger) error {
	l.log = log
	l.srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	return nil
}

// Serve serves HTTP until Close (after Close, http.Server.Serve returns at once).
func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.establish = establish
	_ = l.srv.Serve(l.ln)
}

func (l *wsListener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has already answered with an HTTP error
	}
	serveConn(l.id, &wsConn{Conn: ws.NetConn(), ws: ws}, &l.conns, l.establish, l.log)
}

// Close stops the HTTP server and its socket, then closes every upgraded connection
// (hijacked, so the server does not track them; see conns for why not closeClients).
func (l *wsListener) Close(listeners.CloseFn) {
	_ = l.srv.Close()
	_ = l.ln.Close()
	l.conns.closeAll()
}

// wsConn presents a websocket as the byte stream mochi reads MQTT packets from: each
// binary message carries one or more packets, or part of one.
//
// Deadlines go to the underlying connection. That bounds reads (mochi's keepalive check);
// gorilla resets the write deadline on every write, so writes are unbounded, as with mochi's
// own websocket listener. (gorilla's SetWriteDeadline cannot be used instead: it races
// with a concurrent write, and mochi sets deadlines from its read goroutine.) A client that
// stops reading is still dropped when its read deadline passes, which unblocks the write.
type wsConn struct {
	net.Conn // the underlying connection: addresses, deadlines, Close
	ws       *websocket.Conn
	r        io.Reader // the message being read, nil between messages
}

var errNotBinary = errors.New("websocket message is not binary")

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errNotBinary
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue // empty message or end of one: read the next
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
