package cluster

import (
	"context"
	"net/http"
	"testing"
)

func TestUnitURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ proto, port, addr, want string }{
		{"http", "80", "pio01.local", "http://pio01.local:80"},
		{"http", "80", "192.168.1.10", "http://192.168.1.10:80"},
		{"https", "443", "fe80::1", "https://[fe80::1]:443"},
		{"http", "80", "[fe80::1]", "http://[fe80::1]:80"},
		{"http", "80", "127.0.0.1:4101", "http://127.0.0.1:4101"}, // the per-unit port extension
		{"http", "80", "[::1]:4101", "http://[::1]:4101"},
		{"", "", "localhost", "http://localhost:80"},
	} {
		if got := UnitURL(c.proto, c.port, c.addr); got != c.want {
			t.Errorf("UnitURL(%q, %q, %q) = %q, want %q", c.proto, c.port, c.addr, got, c.want)
		}
	}
}

func TestRawAndKey(t *testing.T) {
	t.Parallel()
	var gotAuth []string
	u := newUnit(t, map[string]http.HandlerFunc{
		"GET /unit_api/config/specific": func(w http.ResponseWriter, r *http.Request) {
			gotAuth = append(gotAuth, r.Header.Get("Authorization"))
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("[a]\nx=1\n"))
		},
		"POST /unit_api/work": reply(400, `{"error":"bad","status":400,"cause":"c"}`),
	})
	c := New(Config{APIKey: "a2V5", Resolve: func(string) (string, error) { return u.srv.URL, nil }})
	r := c.Call(context.Background(), "u", Request{Path: "/unit_api/config/specific", Raw: true})
	if !r.OK || string(r.Value) != `"[a]\nx=1\n"` {
		t.Errorf("raw: %+v %s", r, r.Value)
	}
	if r := c.Call(context.Background(), "u", Request{Path: "/unit_api/config/specific"}); r.OK || r.Error.Kind != DecodeError {
		t.Errorf("text without Raw: %+v", r)
	}
	if len(gotAuth) != 2 || gotAuth[0] != "Basic a2V5" {
		t.Errorf("Authorization %q", gotAuth)
	}
	r = c.Call(context.Background(), "u", Request{Method: "POST", Path: "/unit_api/work"})
	if !r.Error.FromUnit() || r.Error.Message != "bad" {
		t.Errorf("unit envelope: %+v", r.Error)
	}
	r = New(Config{Resolve: func(string) (string, error) { return "http://127.0.0.1:1", nil }}).Call(context.Background(), "u", Request{})
	if r.Error.FromUnit() {
		t.Error("a connection error is not the unit's envelope")
	}
}
