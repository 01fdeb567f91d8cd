// Package ui holds the dashboard: its source (src/, built with esbuild by build.mjs, see
// docs/dashboard.md) and the built files in dist/, which this package embeds. `make ui` builds
// dist/ before every `make build`; a plain `go build` without it still compiles (dist/ keeps
// its .gitkeep) and the daemon then serves a page that says to run `make ui`.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var embedded embed.FS

// Dist is the built dashboard, rooted at dist/ (index.html, assets/, and their .gz and .br
// siblings), and whether it holds a build: false when dist/index.html is missing.
func Dist() (fs.FS, bool) {
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot fail on it
	}
	_, err = fs.Stat(dist, "index.html")
	return dist, err == nil
}
