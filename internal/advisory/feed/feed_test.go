// SPDX-License-Identifier: Apache-2.0

package feed_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory/feed"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// provider serves a CSAF provider on loopback: a ROLIE feed with hash
// links, a directory distribution with index.txt, and the KEV catalog.
type provider struct {
	srv   *httptest.Server
	files map[string][]byte
	// handlers answer their paths instead of files.
	handlers map[string]http.HandlerFunc
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	shared := testutil.SharedData(t)
	p := &provider{files: map[string][]byte{}, handlers: map[string]http.HandlerFunc{}}
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(shared, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := p.handlers[r.URL.Path]; ok {
			h(w, r)
			return
		}
		b, ok := p.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.srv.Listener = l
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	base := p.srv.URL

	rolieDocs := []string{"csaf/cisa/icsa-20-196-02.json", "csaf/cisa/icsa-23-131-08.json"}
	var entries []string
	for i, d := range rolieDocs {
		b := read(d)
		name := "/rolie/" + filepath.Base(d)
		p.files[name] = b
		s := sha512.Sum512(b)
		p.files[name+".sha512"] = []byte(hex.EncodeToString(s[:]) + "  " + filepath.Base(d) + "\n")
		entries = append(entries, fmt.Sprintf(`{"id":"e%d","title":"t","link":[{"rel":"self","href":"%s%s"},{"rel":"hash","href":"%s%s.sha512"}],"published":"2024-01-01T00:00:00Z","updated":"2024-01-01T00:00:00Z","content":{"type":"application/json","src":"%s%s"},"format":{"schema":"https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json","version":"2.0"}}`, i, base, name, base, name, base, name))
	}
	p.files["/rolie/feed.json"] = []byte(`{"feed":{"id":"f","title":"f","link":[{"rel":"self","href":"` + base + `/rolie/feed.json"}],"category":[],"updated":"2024-01-01T00:00:00Z","entry":[` + strings.Join(entries, ",") + `]}}`)
	dirDoc := read("csaf/csaf_2.0/examples/csaf/bsi-2022-0001.json")
	p.files["/dir/2022/bsi-2022-0001.json"] = dirDoc
	s := sha256.Sum256(dirDoc)
	p.files["/dir/2022/bsi-2022-0001.json.sha256"] = []byte(hex.EncodeToString(s[:]))
	p.files["/dir/index.txt"] = []byte("2022/bsi-2022-0001.json\n")
	p.files["/.well-known/csaf/provider-metadata.json"] = []byte(`{"canonical_url":"` + base + `/.well-known/csaf/provider-metadata.json","distributions":[{"rolie":{"feeds":[{"summary":"s","tlp_label":"WHITE","url":"` + base + `/rolie/feed.json"}]}},{"directory_url":"` + base + `/dir/"}],"last_updated":"2024-01-01T00:00:00Z","list_on_CSAF_aggregators":false,"metadata_version":"2.0","mirror_on_CSAF_aggregators":false,"publisher":{"category":"other","name":"test","namespace":"https://example.org"},"role":"csaf_provider"}`)
	p.files["/kev.json"] = read("kev/known_exploited_vulnerabilities.json")
	return p
}

func (p *provider) client() *feed.Client { return &feed.Client{HTTP: p.srv.Client()} }

// caPEM is the test server's certificate, as a mirror's CA file.
func (p *provider) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

func TestFetch(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name       string
		path       string
		kind       string
		docs       int
		verified   int
		unverified int
	}{
		{name: "provider", path: "/.well-known/csaf/provider-metadata.json", kind: "provider", docs: 3, verified: 3},
		{name: "rolie", path: "/rolie/feed.json", kind: "rolie", docs: 2, verified: 2},
		{name: "kev", path: "/kev.json", kind: "kev", docs: 1, unverified: 1},
		{name: "single_document_with_hash", path: "/dir/2022/bsi-2022-0001.json", kind: "csaf", docs: 1, verified: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := p.srv.URL + tc.path
			res, err := p.client().Fetch(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tc.kind || len(res.Documents) != tc.docs || res.Verified != tc.verified || res.Unverified != tc.unverified {
				t.Errorf("got kind %s, %d docs, %d verified, %d unverified; want %s %d %d %d",
					res.Kind, len(res.Documents), res.Verified, res.Unverified, tc.kind, tc.docs, tc.verified, tc.unverified)
			}
			for _, d := range res.Documents {
				if d.Item.Source != src {
					t.Errorf("document %s has source %s, want the feed %s", d.Item.ID, d.Item.Source, src)
				}
			}
		})
	}
}

func TestFetchRejects(t *testing.T) {
	p := newProvider(t)
	tests := []struct {
		name   string
		mutate func()
		path   string
		want   string
		is     error
	}{
		{name: "hash_mismatch", path: "/rolie/feed.json", is: feed.ErrHashMismatch,
			mutate: func() {
				p.files["/rolie/icsa-20-196-02.json"] = append([]byte(" "), p.files["/rolie/icsa-20-196-02.json"]...)
			}},
		{name: "invalid_csaf_in_feed", path: "/rolie/feed.json", want: "not valid CSAF 2.0",
			mutate: func() {
				b := []byte(strings.Replace(string(p.files["/rolie/icsa-23-131-08.json"]), `"csaf_version": "2.0"`, `"csaf_version": "2.0", "extra": 1`, 1))
				b = []byte(strings.Replace(string(b), `"title"`, `"titel"`, 1))
				p.files["/rolie/icsa-23-131-08.json"] = b
				s := sha512.Sum512(b)
				p.files["/rolie/icsa-23-131-08.json.sha512"] = []byte(hex.EncodeToString(s[:]))
			}},
		{name: "missing_document", path: "/rolie/feed.json", want: "HTTP 404",
			mutate: func() { delete(p.files, "/rolie/icsa-23-131-08.json") }},
		{name: "not_a_feed", path: "/dir/index.txt", want: "not JSON"},
		{name: "invalid_provider_metadata", path: "/.well-known/csaf/provider-metadata.json", want: "not valid provider metadata",
			mutate: func() {
				p.files["/.well-known/csaf/provider-metadata.json"] = []byte(strings.Replace(string(p.files["/.well-known/csaf/provider-metadata.json"]), `"role":"csaf_provider"`, `"role":"boss"`, 1))
			}},
		{name: "plain_http_elsewhere", path: "", want: "plain http is only allowed for loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string][]byte{}
			for k, v := range p.files {
				saved[k] = v
			}
			defer func() { p.files = saved }()
			if tc.mutate != nil {
				tc.mutate()
			}
			src := p.srv.URL + tc.path
			if tc.path == "" {
				src = "http://198.51.100.7/feed.json" // never dialed: refused before any request
			}
			res, err := p.client().Fetch(t.Context(), src)
			if err == nil {
				t.Fatalf("Fetch accepted it: %+v", res)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestDocumentLimit(t *testing.T) {
	p := newProvider(t)
	c := p.client()
	c.MaxDocuments = 1
	if _, err := c.Fetch(t.Context(), p.srv.URL+"/rolie/feed.json"); err == nil || !strings.Contains(err.Error(), "above the limit") {
		t.Errorf("error %v, want the document limit", err)
	}
}

// loopbackOnly returns a copy of the provider's client whose dialer
// refuses every address off loopback and records the attempt: a test
// that a redirect is refused must not reach another host even if the
// refusal is broken.
func (p *provider) loopbackOnly(t *testing.T) (*http.Client, *[]string) {
	t.Helper()
	var off []string
	hc := *p.srv.Client()
	tr := hc.Transport.(*http.Transport).Clone()
	d := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			off = append(off, addr)
			return nil, fmt.Errorf("test: refusing to dial %s off loopback", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
	hc.Transport = tr
	return &hc, &off
}

// TestRedirects: the https-only rule holds for every hop, not only the
// URL the user named (issue 8 §5.2).
func TestRedirects(t *testing.T) {
	p := newProvider(t)
	// A plain-http server on loopback serving the same files.
	plain := httptest.NewServer(p.srv.Config.Handler)
	t.Cleanup(plain.Close)
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	tests := []struct {
		name string
		to   string
		want string // "" means the fetch succeeds
	}{
		{"to plain http off loopback", "http://198.51.100.7/kev.json", "plain http is only allowed for loopback"},
		{"from https down to loopback http", plain.URL + "/kev.json", "from https down to http"},
		{"to another scheme", "ftp://127.0.0.1/kev.json", "want an https URL"},
		{"to https on loopback", p.srv.URL + "/kev.json", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("/redirect-%d", i)
			p.handlers[path] = redirect(tc.to)
			hc, off := p.loopbackOnly(t)
			c := &feed.Client{HTTP: hc}
			res, err := c.Fetch(t.Context(), p.srv.URL+path)
			if len(*off) > 0 {
				t.Fatalf("the client dialed %v off loopback", *off)
			}
			if tc.want == "" {
				if err != nil || res.Kind != "kev" {
					t.Fatalf("Fetch = %+v, %v; want the KEV catalog", res, err)
				}
				return
			}
			if !errors.Is(err, feed.ErrRedirectRefused) {
				t.Fatalf("Fetch error %v, want ErrRedirectRefused", err)
			}
			for _, s := range []string{tc.want, path, tc.to} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
	t.Run("in the client NewHTTPClient builds", func(t *testing.T) {
		p.handlers["/redirect-down"] = redirect(plain.URL + "/kev.json")
		hc, err := feed.NewHTTPClient(p.caPEM())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.srv.URL+"/redirect-down", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, feed.ErrRedirectRefused) {
			t.Fatalf("NewHTTPClient's client followed the redirect to plain http: %v", err)
		}
	})
}

// TestNewHTTPClient: the extra CA is trusted in addition to the system
// roots; a file without a certificate is refused.
func TestNewHTTPClient(t *testing.T) {
	p := newProvider(t)
	src := p.srv.URL + "/kev.json"
	hc, err := feed.NewHTTPClient(p.caPEM())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := (&feed.Client{HTTP: hc}).Fetch(t.Context(), src); err != nil || res.Kind != "kev" {
		t.Errorf("with the mirror's CA: %+v, %v", res, err)
	}
	hc, err = feed.NewHTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&feed.Client{HTTP: hc}).Fetch(t.Context(), src); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the mirror's CA: %v, want a certificate error", err)
	}
	if _, err := feed.NewHTTPClient([]byte("not a PEM file")); !errors.Is(err, feed.ErrNoCertificate) {
		t.Errorf("garbage CA: %v, want ErrNoCertificate", err)
	}
}

// TestCredentialsRedacted: credentials in a source URL are sent, and never
// returned in a Result, a stored Source or an error (issue 8 §5.3).
func TestCredentialsRedacted(t *testing.T) {
	p := newProvider(t)
	p.handlers["/private/kev.json"] = func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "mirror-user" || pw != "s3cret-pass" || r.URL.Query().Get("access_token") != "t0ken-value" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write(p.files["/kev.json"])
	}
	u, err := url.Parse(p.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	withCreds := func(path string) string {
		return "https://mirror-user:s3cret-pass@" + u.Host + path + "?access_token=t0ken-value&x=1"
	}
	secrets := []string{"mirror-user", "s3cret-pass", "t0ken-value"}
	var progress []string
	c := p.client()
	c.Progress = func(src string, _, _ int) { progress = append(progress, src) }
	res, err := c.Fetch(t.Context(), withCreds("/private/kev.json"))
	if err != nil {
		t.Fatalf("Fetch with credentials: %v", err)
	}
	shown := []string{res.Source}
	for _, d := range res.Documents {
		shown = append(shown, d.Item.Source)
	}
	if _, err := c.Fetch(t.Context(), withCreds("/missing.json")); err == nil {
		t.Fatal("a missing document was fetched")
	} else {
		shown = append(shown, err.Error())
	}
	if _, err := c.Fetch(t.Context(), withCreds("/rolie/feed.json")); err != nil {
		t.Fatalf("ROLIE feed with credentials: %v", err)
	}
	shown = append(shown, progress...)
	for _, s := range shown {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows the credential %q", s, secret)
			}
		}
	}
	if want := "https://REDACTED@" + u.Host + "/private/kev.json?access_token=REDACTED&x=1"; res.Source != want {
		t.Errorf("Result.Source = %s, want %s", res.Source, want)
	}
}
