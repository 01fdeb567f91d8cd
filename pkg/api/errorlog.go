package api

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// serverErrorLog is the http.Server's ErrorLog, through slog: net/http would otherwise print
// to stderr through the std log package. A failed TLS handshake (a port scan, a browser
// speaking plain HTTP to the HTTPS port, a client distrusting the certificate) is the
// client's problem: Debug. The rest (accept errors, a handler misusing its writer): Warn.
func serverErrorLog(l *slog.Logger) *log.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return log.New(slogWriter{l}, "", 0)
}

type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") {
		w.log.Debug("http tls handshake failed", "err", msg)
	} else {
		w.log.Log(context.Background(), slog.LevelWarn, "http server", "err", msg)
	}
	return len(p), nil
}
