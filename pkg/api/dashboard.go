package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// The dashboard (docs/dashboard.md, "Serving"): the built single-page app that Config.Dashboard
// holds, served at every GET or HEAD path that is not an API's.
const (
	dashboardIndex = "index.html"
	// dashboardAssets holds the bundler's output, whose names carry a hash of their content:
	// a browser may keep them for good.
	dashboardAssets = "assets/"
	cacheImmutable  = "public, max-age=31536000, immutable"
	// cacheRevalidate is for index.html: it names the current assets, so the browser asks
	// (If-None-Match, a 304 when unchanged) before it uses its copy.
	cacheRevalidate = "no-cache"
	notBuiltPage    = "<!doctype html><title>Pioreactor</title><p>The dashboard is not built: run <code>make ui</code>, then restart pioreactord.</p>\n"
)

// dashboardEncodings are the precompressed siblings build.mjs writes, best first.
var dashboardEncodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// apiPath reports a path that belongs to the routes, never to the dashboard: those answer
// 404 (in the error envelope) rather than the dashboard's page when nothing matches.
func apiPath(p string) bool {
	for _, prefix := range []string{"/api", "/unit_api", "/exports"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '/') {
			return true
		}
	}
	return false
}

// dashboard serves a built dashboard from files: the file a path names if it exists,
// index.html for any other path (the page's router reads the URL), with the .br or .gz
// sibling the client accepts.
type dashboard struct {
	files fs.FS
	built bool     // files has index.html
	etags sync.Map // served file name, size, mod time -> ETag
}

func newDashboard(files fs.FS) *dashboard {
	_, err := fs.Stat(files, dashboardIndex)
	return &dashboard{files: files, built: err == nil}
}

// dashboardRoutes adds the dashboard as the catch-all of GET and HEAD.
func (s *Server) dashboardRoutes(e *echo.Echo) {
	e.GET("/*", s.dash.serve)
	e.HEAD("/*", s.dash.serve)
}

// dashboardRequest reports a request the dashboard answers: such requests need no API key,
// since the page must load to show its login form. It holds no data: everything it shows
// comes from the API routes, which keep requiring the key.
func (s *Server) dashboardRequest(c echo.Context) bool {
	m := c.Request().Method
	return s.dash != nil && (m == http.MethodGet || m == http.MethodHead) &&
		c.Path() == "/*" && !apiPath(c.Request().URL.Path)
}

func (d *dashboard) serve(c echo.Context) error {
	w, r := c.Response(), c.Request()
	if apiPath(r.URL.Path) { // no route of the API matched: its error, not the page
		if r.Method == http.MethodHead {
			return echo.ErrMethodNotAllowed // as without a dashboard: the API has no HEAD route
		}
		return echo.ErrNotFound
	}
	if !d.built && !d.isFile(dashboardIndex) { // (a folder served from disk may get one)
		w.Header().Set("Cache-Control", "no-store")
		return c.HTML(http.StatusServiceUnavailable, notBuiltPage)
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	cache := cacheRevalidate
	if name == "" || !d.isFile(name) {
		if strings.HasPrefix(name, dashboardAssets) {
			// A missing bundle file is an error, not the page: served as HTML it would fail
			// as a script for a less helpful reason.
			return echo.ErrNotFound
		}
		name = dashboardIndex // the page's router handles the path
	} else if strings.HasPrefix(name, dashboardAssets) {
		cache = cacheImmutable
	}
	return d.serveFile(w, r, name, cache)
}

func (d *dashboard) isFile(name string) bool {
	info, err := fs.Stat(d.files, name)
	return err == nil && info.Mode().IsRegular()
}

// serveFile sends name, or its precompressed sibling in an encoding the client accepts,
// with the original's Content-Type, Content-Length, and a 304 when If-None-Match names its
// ETag. (Not http.ServeContent: it drops Content-Length whenever Content-Encoding is set.
// Ranges are not needed for a page and its scripts.)
func (d *dashboard) serveFile(w http.ResponseWriter, r *http.Request, name, cache string) error {
	served, encoding := name, ""
	for _, enc := range dashboardEncodings {
		if acceptsEncoding(r.Header.Get("Accept-Encoding"), enc.name) && d.isFile(name+enc.ext) {
			served, encoding = name+enc.ext, enc.name
			break
		}
	}
	f, err := d.files.Open(served)
	if err != nil {
		return internal("Could not read the dashboard.", fmt.Errorf("open dashboard file %s: %w", served, err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return internal("Could not read the dashboard.", fmt.Errorf("stat dashboard file %s: %w", served, err))
	}
	etag, err := d.etag(served, info)
	if err != nil {
		return internal("Could not read the dashboard.", err)
	}
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", contentType(name))
	h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f) // the client went away: nothing to tell it
	}
	return nil
}

// etagMatches reports whether an If-None-Match value names etag (weak comparison, RFC 9110).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// etag is a strong validator of one served file (each encoding is its own representation),
// computed once per file version: embedded files never change; a dashboard served from disk
// (PIOREACTORD_UI_DIR) changes size or modification time when rebuilt.
func (d *dashboard) etag(served string, info fs.FileInfo) (string, error) {
	key := fmt.Sprintf("%s\x00%d\x00%d", served, info.Size(), info.ModTime().UnixNano())
	if v, ok := d.etags.Load(key); ok {
		return v.(string), nil
	}
	content, err := fs.ReadFile(d.files, served)
	if err != nil {
		return "", fmt.Errorf("read dashboard file %s: %w", served, err)
	}
	sum := sha256.Sum256(content)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	d.etags.Store(key, tag)
	return tag, nil
}

// dashboardTypes are the Content-Types of what a build holds, fixed here rather than taken
// from the machine's /etc/mime.types.
var dashboardTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".json":  "application/json",
	".map":   "application/json",
	".txt":   "text/plain; charset=utf-8",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := dashboardTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// acceptsEncoding reports whether an Accept-Encoding header value admits coding: named
// (or `*`) without q=0.
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != coding && name != "*" {
			continue
		}
		ok := !zeroQ(params)
		if name == coding {
			return ok // the coding's own entry wins over `*`
		}
		star = ok
	}
	return star
}

// zeroQ reports parameters that say q=0 (not acceptable).
func zeroQ(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}
