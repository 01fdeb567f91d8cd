package api

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pioreactor/pioreactord/pkg/cluster"
)

const (
	dashIndex = `<!doctype html><title>Pioreactor</title><script type="module" src="/assets/main-AB12.js"></script><div id="app"></div>`
	dashJS    = "console.log('the dashboard');"
	dashKey   = "cGlvOnNlY3JldA=="
)

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// builtDashboard is what build.mjs writes: index.html, hashed assets, .gz and .br siblings
// (the brotli bytes are a stand-in: only their choice is tested, not their decoding).
func builtDashboard(t *testing.T) fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                  {},
		"index.html":                {Data: []byte(dashIndex)},
		"index.html.gz":             {Data: []byte(gz(t, dashIndex))},
		"assets/main-AB12.js":       {Data: []byte(dashJS)},
		"assets/main-AB12.js.gz":    {Data: []byte(gz(t, dashJS))},
		"assets/main-AB12.js.br":    {Data: []byte("BROTLI:" + dashJS)},
		"assets/main-CD34.css":      {Data: []byte("body{margin:0}")},
		"assets/chunk-EF56.js":      {Data: []byte("export const x=1;")},
		"assets/chunk-EF56.js.br":   {Data: []byte("BROTLI:export const x=1;")},
		"favicon.svg":               {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		"assets/fonts/inter-99.txt": {Data: []byte("not a font")},
	}
}

// newDashboardServer is a leader serving files as its dashboard, behind key ("" for none).
func newDashboardServer(t *testing.T, files fstest.MapFS, key string) http.Handler {
	t.Helper()
	cl := cluster.New(cluster.Config{Resolve: func(unit string) (string, error) { return "", fmt.Errorf("no address for %s", unit) }})
	s, err := New(Config{Unit: &fakeUnit{name: "leader"}, Now: (&fakeClock{t: t0}).Now, APIKey: key, Dashboard: files,
		Leader: &Leader{Store: newFakeStore(), Publisher: &fakePublisher{}, Cluster: cl}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.Handler()
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	built := newDashboardServer(t, builtDashboard(t), "")
	keyed := newDashboardServer(t, builtDashboard(t), dashKey)
	unbuilt := newDashboardServer(t, fstest.MapFS{".gitkeep": {}}, "")
	const immutable, revalidate = "public, max-age=31536000, immutable", "no-cache"
	tests := []struct {
		name    string
		h       http.Handler
		method  string
		path    string
		headers map[string]string
		// want
		status   int
		ctype    string // prefix
		encoding string
		cache    string
		body     string // exact, unless prefixed with ~ (contains)
		header   map[string]string
	}{
		{name: "root is index.html", h: built, path: "/", status: 200,
			ctype: "text/html", cache: revalidate, body: dashIndex},
		{name: "index.html by name", h: built, path: "/index.html", status: 200,
			ctype: "text/html", cache: revalidate, body: dashIndex},
		{name: "fallback for a page's path", h: built, path: "/pioreactors", status: 200,
			ctype: "text/html", cache: revalidate, body: dashIndex},
		{name: "fallback for a deep path with a dot", h: built, path: "/experiments/trial.2", status: 200,
			ctype: "text/html", cache: revalidate, body: dashIndex},
		{name: "a directory under assets: 404", h: built, path: "/assets/fonts", status: 404},
		{name: "a file outside assets, no long cache", h: built, path: "/favicon.svg", status: 200,
			ctype: "image/svg+xml", cache: revalidate, body: "~<svg"},
		{name: "hashed asset: immutable, identity without Accept-Encoding", h: built, path: "/assets/main-AB12.js",
			status: 200, ctype: "text/javascript", cache: immutable, body: dashJS,
			header: map[string]string{"Vary": "Accept-Encoding", "Content-Length": strconv.Itoa(len(dashJS))}},
		{name: "css type", h: built, path: "/assets/main-CD34.css", status: 200,
			ctype: "text/css", cache: immutable, body: "body{margin:0}"},
		{name: "brotli preferred", h: built, path: "/assets/main-AB12.js", headers: map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"},
			status: 200, ctype: "text/javascript", encoding: "br", cache: immutable, body: "BROTLI:" + dashJS,
			header: map[string]string{"Vary": "Accept-Encoding", "Content-Length": strconv.Itoa(len("BROTLI:" + dashJS))}},
		{name: "gzip", h: built, path: "/assets/main-AB12.js", headers: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, ctype: "text/javascript", encoding: "gzip", cache: immutable, body: gz(t, dashJS)},
		{name: "br refused with q=0", h: built, path: "/assets/main-AB12.js", headers: map[string]string{"Accept-Encoding": "br;q=0, gzip;q=0.5"},
			status: 200, encoding: "gzip", body: gz(t, dashJS)},
		{name: "identity when every coding is refused", h: built, path: "/assets/main-AB12.js", headers: map[string]string{"Accept-Encoding": "*;q=0"},
			status: 200, encoding: "", body: dashJS},
		{name: "gzip wanted, only br exists: identity", h: built, path: "/assets/chunk-EF56.js", headers: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, encoding: "", cache: immutable, body: "export const x=1;"},
		{name: "fallback is compressed too", h: built, path: "/logs", headers: map[string]string{"Accept-Encoding": "gzip, br"},
			status: 200, ctype: "text/html", encoding: "gzip", cache: revalidate, body: gz(t, dashIndex)},
		{name: "HEAD: headers, no body", h: built, method: http.MethodHead, path: "/assets/main-AB12.js", headers: map[string]string{"Accept-Encoding": "br"},
			status: 200, ctype: "text/javascript", encoding: "br", cache: immutable, body: "",
			header: map[string]string{"Content-Length": strconv.Itoa(len("BROTLI:" + dashJS))}},
		{name: "HEAD of a page", h: built, method: http.MethodHead, path: "/overview", status: 200, ctype: "text/html", body: ""},
		{name: "missing asset is 404, not the page", h: built, path: "/assets/main-OLD1.js", status: 404, ctype: "application/json"},
		{name: "unknown /api path: the API's 404", h: built, path: "/api/nope", status: 404, ctype: "application/json", body: `~"status":404`},
		{name: "HEAD of an API route: 405 as without a dashboard", h: built, method: http.MethodHead, path: "/api/workers", status: 405},
		{name: "bare /api: 404", h: built, path: "/api", status: 404, ctype: "application/json"},
		{name: "unknown /unit_api path: 404", h: built, path: "/unit_api/nope", status: 404, ctype: "application/json"},
		{name: "unknown /exports path: 404", h: built, path: "/exports", status: 404, ctype: "application/json"},
		{name: "a page named like a prefix is the page", h: built, path: "/apiary", status: 200, ctype: "text/html", body: dashIndex},
		{name: "API routes still answer", h: built, path: "/unit_api/versions/app", status: 200, ctype: "application/json"},
		{name: "POST to a page: not the dashboard", h: built, method: http.MethodPost, path: "/pioreactors", status: 405},
		{name: "not built: the one-line page", h: unbuilt, path: "/", status: 503, ctype: "text/html", cache: "no-store",
			body: "~The dashboard is not built: run <code>make ui</code>, then restart pioreactord."},
		{name: "not built: any page path", h: unbuilt, path: "/assets/main-AB12.js", status: 503, ctype: "text/html", body: "~make ui"},
		{name: "not built: API unaffected", h: unbuilt, path: "/api/nope", status: 404, ctype: "application/json"},
		{name: "keyed: the page needs no key", h: keyed, path: "/", status: 200, ctype: "text/html", body: dashIndex},
		{name: "keyed: assets need no key", h: keyed, path: "/assets/main-AB12.js", status: 200, body: dashJS},
		{name: "keyed: the API needs the key, and challenges", h: keyed, path: "/api/workers", status: 401,
			header: map[string]string{"WWW-Authenticate": `Basic realm="pioreactor"`}},
		{name: "keyed: unknown API path needs the key too", h: keyed, path: "/api/nope", status: 401},
		{name: "keyed: the dashboard's fetch gets no challenge", h: keyed, path: "/api/workers",
			headers: map[string]string{"X-Requested-With": "XMLHttpRequest"}, status: 401, header: map[string]string{"WWW-Authenticate": ""}},
		{name: "keyed: with the key", h: keyed, path: "/api/workers",
			headers: map[string]string{"X-Requested-With": "XMLHttpRequest", "Authorization": "Basic " + dashKey}, status: 200, ctype: "application/json"},
		{name: "keyed: unit_api needs the key", h: keyed, path: "/unit_api/versions/app", status: 401},
		{name: "keyed: POST to a page needs the key", h: keyed, method: http.MethodPost, path: "/", status: 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tt.path, nil)
			req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", i+1) // each its own: wrong keys add up per address
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s: %d, want %d; body %.200q", method, tt.path, res.StatusCode, tt.status, body)
			}
			if tt.ctype != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
			if tt.status == 200 && res.Header.Get("Content-Encoding") != tt.encoding {
				t.Errorf("Content-Encoding %q, want %q", res.Header.Get("Content-Encoding"), tt.encoding)
			}
			if tt.cache != "" && res.Header.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control %q, want %q", res.Header.Get("Cache-Control"), tt.cache)
			}
			for k, v := range tt.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			switch {
			case tt.body == "" && method != http.MethodHead:
			case strings.HasPrefix(tt.body, "~"):
				if !strings.Contains(string(body), tt.body[1:]) {
					t.Errorf("body %.300q does not contain %q", body, tt.body[1:])
				}
			case string(body) != tt.body:
				t.Errorf("body %.300q, want %.300q", body, tt.body)
			}
		})
	}
}

// TestDashboardRevalidation: index.html is no-cache, so a browser revalidates it on each
// visit; an unchanged page answers 304 with no body.
func TestDashboardRevalidation(t *testing.T) {
	t.Parallel()
	h := newDashboardServer(t, builtDashboard(t), "")
	get := func(etag string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" {
		t.Fatalf("first visit: %d, ETag %q", first.StatusCode, etag)
	}
	if again := get(etag); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d, want 304", again.StatusCode)
	}
	if other := get(`"stale"`); other.StatusCode != 200 {
		t.Fatalf("stale ETag: %d, want 200", other.StatusCode)
	}
}

// TestDashboardKeyBackoffSparesThePage: an address blocked after wrong keys still loads the
// page (it must, to show the login form), while the API answers 429.
func TestDashboardKeyBackoffSparesThePage(t *testing.T) {
	t.Parallel()
	h := newDashboardServer(t, builtDashboard(t), dashKey)
	do := func(path, auth string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "192.0.2.9:5000"
		if auth != "" {
			req.Header.Set("Authorization", "Basic "+auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for range authFreeFailures {
		do("/api/workers", "wrong")
	}
	if got := do("/api/workers", dashKey); got != http.StatusTooManyRequests {
		t.Fatalf("API while blocked: %d, want 429", got)
	}
	if got := do("/pioreactors", ""); got != 200 {
		t.Fatalf("page while blocked: %d, want 200", got)
	}
}

func TestAcceptsEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, coding string
		want           bool
	}{
		{"", "br", false},
		{"gzip, deflate, br", "br", true},
		{"gzip, deflate, br", "gzip", true},
		{"deflate", "gzip", false},
		{"BR", "br", true},
		{"br;q=0", "br", false},
		{"br; q=0.0", "br", false},
		{"br;q=0.1", "br", true},
		{"*", "gzip", true},
		{"*;q=0", "gzip", false},
		{"*, br;q=0", "br", false},
		{"br;q=0, *", "br", false},
		{"gzip;q=0, *;q=0.5", "br", true},
	}
	for _, tt := range tests {
		if got := acceptsEncoding(tt.header, tt.coding); got != tt.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v, want %v", tt.header, tt.coding, got, tt.want)
		}
	}
}
