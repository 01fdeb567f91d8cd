package api

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// requireKey refuses, with 401, every request that does not carry key as
// `Authorization: Basic <key>` (what the original's units send, [ui_basic_auth] api_key)
// or `Bearer <key>` (a token, for scripts). An empty key lets everything through: --sim.
// The header's value never reaches a log line, nor the answer.
func requireKey(key string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if key == "" {
			return next
		}
		return func(c echo.Context) error {
			if authorized(c.Request().Header.Get("Authorization"), key) {
				return next(c)
			}
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="pioreactor"`)
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
