package api

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Back-off after wrong API keys, per client address: failures are answered 401 at once,
// and from the authFreeFailures-th in a row on each blocks the address, for
// authBackoffBase, then doubling up to authBackoffMax. A blocked address gets 429 with Retry-After for every
// request, right key or not, so guessing runs at one try per back-off. A success resets it.
const (
	authFreeFailures = 5
	authBackoffBase  = time.Second
	authBackoffMax   = 5 * time.Minute
	authForget       = 15 * time.Minute // an address quiet this long starts afresh
	authMaxClients   = 4096             // entries kept; beyond, the quiet ones are pruned
)

// requireKey refuses, with 401, every request that does not carry key as
// `Authorization: Basic <key>` (what the original's units send, [ui_basic_auth] api_key)
// or `Bearer <key>` (a token, for scripts), and backs off repeated failures (authGuard).
// An empty key lets everything through: --sim. The header's value never reaches a log
// line, nor the answer. Requests for which skip is true need no key (the dashboard's page).
func requireKey(key string, now func() time.Time, skip func(echo.Context) bool) echo.MiddlewareFunc {
	g := &authGuard{now: now, clients: map[string]*authClient{}}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if key == "" {
			return next
		}
		return func(c echo.Context) error {
			if skip(c) {
				return next(c)
			}
			ip := clientIP(c.Request())
			if wait := g.blocked(ip); wait > 0 {
				secs := int((wait + time.Second - 1) / time.Second)
				c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
				return httpError(http.StatusTooManyRequests, "Too many failed authorization attempts.",
					fmt.Sprintf("Requests from %s are refused for %d s after repeated wrong API keys.", ip, secs),
					"Wait, then retry with [ui_basic_auth] api_key of the leader's config.ini.")
			}
			header := c.Request().Header.Get("Authorization")
			if authorized(header, key) {
				g.succeeded(ip)
				return next(c)
			}
			if header != "" { // no header guesses nothing: a dashboard before its login form
				g.failed(ip)
			}
			// The dashboard marks its fetches with X-Requested-With: it asks for the key in
			// its own login form. Offered a Basic challenge, the browser would show its
			// modal password prompt instead, and then send what is typed there on every
			// later request of the page.
			if c.Request().Header.Get("X-Requested-With") != "XMLHttpRequest" {
				c.Response().Header().Set("WWW-Authenticate", `Basic realm="pioreactor"`)
			}
			return httpError(http.StatusUnauthorized, "Unauthorized.",
				"The request has no valid Authorization header.",
				"Send `Authorization: Basic <api_key>` with [ui_basic_auth] api_key of the leader's config.ini.")
		}
	}
}

func authorized(header, key string) bool {
	scheme, value, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "basic", "bearer":
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(value)), []byte(key)) == 1
	}
	return false
}

// clientIP is the peer's address. Forwarding headers are not read: any client can write
// them, and would pick a fresh address for every guess.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authGuard counts consecutive failures per client address on the server's clock.
type authGuard struct {
	now     func() time.Time
	mu      sync.Mutex
	clients map[string]*authClient
}

type authClient struct {
	failures int
	last     time.Time // last failure
	until    time.Time // blocked before this instant
}

// blocked is how long ip must still wait, 0 when it may try.
func (g *authGuard) blocked(ip string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	cl, ok := g.clients[ip]
	if !ok {
		return 0
	}
	return max(0, cl.until.Sub(g.now()))
}

func (g *authGuard) succeeded(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, ip)
}

func (g *authGuard) failed(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	cl, ok := g.clients[ip]
	if !ok || now.Sub(cl.last) >= authForget {
		if len(g.clients) >= authMaxClients {
			g.pruneLocked(now)
		}
		cl = &authClient{}
		g.clients[ip] = cl
	}
	cl.failures++
	cl.last = now
	if extra := cl.failures - authFreeFailures + 1; extra > 0 {
		wait := authBackoffMax
		if extra <= 20 { // 2^20 s is far past the cap; also keeps the shift small
			wait = min(authBackoffBase<<(extra-1), authBackoffMax)
		}
		cl.until = now.Add(wait)
	}
}

// pruneLocked forgets the addresses that are no longer blocked and have been quiet; if
// that frees nothing, the table is cleared rather than grown without bound.
func (g *authGuard) pruneLocked(now time.Time) {
	for ip, cl := range g.clients {
		if !now.Before(cl.until) && now.Sub(cl.last) >= authForget/3 {
			delete(g.clients, ip)
		}
	}
	if len(g.clients) >= authMaxClients {
		clear(g.clients)
	}
}
