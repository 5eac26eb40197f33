// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"embed"
	"net/http"
	"time"
)

//go:embed static/htmx/htmx.min.js static/app.css
var staticFS embed.FS

// staticFiles maps the names under /static/ to the embedded files: a
// fixed list, so no path from a request reaches the file system.
var staticFiles = map[string]struct{ path, contentType string }{
	"htmx.min.js": {"static/htmx/htmx.min.js", "text/javascript; charset=utf-8"},
	"app.css":     {"static/app.css", "text/css; charset=utf-8"},
}

// buildTime stands in for the files' modification time: they are part
// of the binary.
var buildTime = time.Unix(0, 0)

func serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := staticFiles[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := staticFS.ReadFile(f.path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	// The files change only with the binary; an hour of caching spares
	// a request per page.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "", buildTime, bytes.NewReader(b))
}

//go:embed openapi.json
var openAPIDoc []byte

// serveOpenAPI serves the API's OpenAPI document (public: it describes
// the routes, and holds nothing of anyone's data).
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "", buildTime, bytes.NewReader(openAPIDoc))
}
