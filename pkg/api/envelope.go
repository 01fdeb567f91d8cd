package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Error is an HTTP error rendered as the envelope of docs/http.md, "Error envelope". Handlers return it;
// the one error handler writes it.
type Error struct {
	Status      int
	Message     string
	Cause       string // "" means the message
	Remediation string // "" is omitted
	Diagnostics []any  // nil is omitted
	Err         error  // the underlying error, logged for 5xx, never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Envelope is the JSON body of every error response.
type Envelope struct {
	Error       string `json:"error"`
	Status      int    `json:"status"`
	Cause       string `json:"cause"`
	Remediation string `json:"remediation,omitempty"`
	Diagnostics []any  `json:"diagnostics,omitempty"`
}

func httpError(status int, msg, cause, remedy string) *Error {
	return &Error{Status: status, Message: msg, Cause: cause, Remediation: remedy}
}

// internal is a 500 for a failure of ours (the store, mostly); err is logged.
func internal(msg string, err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Message: msg, Cause: err.Error(), Err: err}
}

// envelope normalises any error a handler, echo or a middleware produced.
func envelope(err error, r *http.Request) (*Error, Envelope) {
	var e *Error
	var he *echo.HTTPError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &mb):
		e = tooLarge(mb.Limit)
	case errors.As(err, &he):
		e = fromEcho(he, r)
	default:
		e = internal("Internal server error.", err)
	}
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = "Request failed."
	}
	cause := e.Cause
	if strings.TrimSpace(cause) == "" {
		cause = msg
	}
	return e, Envelope{Error: msg, Status: e.Status, Cause: cause, Remediation: e.Remediation, Diagnostics: e.Diagnostics}
}

// fromEcho maps echo's own errors (no route, wrong method, ...) into our words.
func fromEcho(he *echo.HTTPError, r *http.Request) *Error {
	e := &Error{Status: he.Code, Err: he.Internal}
	switch he.Code {
	case http.StatusNotFound:
		e.Message = "Not found."
		e.Cause = fmt.Sprintf("No route matches %s %s.", r.Method, r.URL.Path)
		e.Remediation = "Check the URL."
	case http.StatusMethodNotAllowed:
		e.Message = "Method not allowed."
		e.Cause = fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path)
	default:
		if s, ok := he.Message.(string); ok {
			e.Message = s
		} else {
			e.Message = http.StatusText(he.Code)
		}
	}
	return e
}

// handleError is echo's HTTPErrorHandler: the only place an error becomes a response.
func handleError(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e, body := envelope(err, c.Request())
		if e.Status >= 500 {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(e.Status)
		} else {
			err = c.JSON(e.Status, body)
		}
		if err != nil {
			log.Debug("write error response", "err", err)
		}
	}
}
