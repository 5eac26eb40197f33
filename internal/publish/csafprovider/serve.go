// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bytes"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// cacheMaxAge is how long clients may reuse a file without asking again:
// documents and feeds change when the operator publishes again, and an
// aggregator polls far less often than this.
const cacheMaxAge = 5 * time.Minute

// ServeHTTP serves the directory: the files under WellKnown with their
// listings, security.txt, and provider-metadata.json at "/" for a host
// named csaf.data.security.* (requirement 10). GET and HEAD only;
// conditional requests (ETag, Last-Modified) are answered with 304.
func (d *Directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed; use GET", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/" && strings.HasPrefix(strings.ToLower(r.Host), DNSPathPrefix) {
		p = WellKnown + "provider-metadata.json"
	}
	f, ok := d.files[p]
	if !ok && !strings.HasSuffix(p, "/") {
		// A directory asked for without its slash: the one redirect
		// (an HTTP header redirect, which requirement 6 allows), so
		// that the listing's relative links resolve.
		if _, dir := d.files[p+"/"]; dir {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(cacheMaxAge/time.Second)))
	// The documents are public (TLP:WHITE or unlabeled): any web page
	// may read them, as CSAF 2.1's requirement 25 asks.
	h.Set("Access-Control-Allow-Origin", "*")
	if strings.HasPrefix(f.contentType, "text/html") {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	}
	http.ServeContent(w, r, "", f.modTime, bytes.NewReader(f.data))
}

// Handler serves the current Directory and lets a server replace it when
// the advisory data changes, without a moment of a half-built directory.
type Handler struct {
	cur atomic.Pointer[Directory]
}

// NewHandler serves d.
func NewHandler(d *Directory) *Handler {
	h := &Handler{}
	h.cur.Store(d)
	return h
}

// Set makes d the served directory.
func (h *Handler) Set(d *Directory) { h.cur.Store(d) }

// Current is the served directory.
func (h *Handler) Current() *Directory { return h.cur.Load() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.cur.Load().ServeHTTP(w, r)
}

// listingTemplate is a server-side directory listing (requirement 14):
// plain links, no script.
var listingTemplate = template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Index of {{.Path}}</title></head>
<body>
<h1>Index of {{.Path}}</h1>
<ul>
{{if .Parent}}<li><a href="../">../</a></li>
{{end}}{{range .Entries}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
</body>
</html>
`))

// addListings adds an HTML listing for every directory under WellKnown.
func (d *Directory) addListings(now time.Time) {
	entries := map[string]map[string]bool{} // directory → names in it
	for p := range d.files {
		if !strings.HasPrefix(p, WellKnown) {
			continue
		}
		for dir := p; dir != WellKnown; {
			i := strings.LastIndex(strings.TrimSuffix(dir, "/"), "/")
			parent, name := dir[:i+1], dir[i+1:]
			if entries[parent] == nil {
				entries[parent] = map[string]bool{}
			}
			entries[parent][name] = true
			dir = parent
		}
	}
	for dir, names := range entries {
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		var b bytes.Buffer
		// The template and its data are ours; it cannot fail.
		_ = listingTemplate.Execute(&b, struct {
			Path    string
			Parent  bool
			Entries []string
		}{dir, dir != WellKnown, list})
		d.put(dir, b.Bytes(), "text/html; charset=utf-8", now)
	}
}
