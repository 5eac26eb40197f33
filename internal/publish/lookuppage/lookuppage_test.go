// SPDX-License-Identifier: Apache-2.0

package lookuppage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/lookup"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var testInfo = datastore.Info{BuiltinVersion: "TEST", BuiltinDocs: 12, StoreDocs: 3, StoreUpdated: "2026-11-30T10:00:00Z", KEVVersion: "2026.11.29", KEVEntries: 1400}

func testIndex(t testing.TB) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

func newHandler(t testing.TB, o Options) *Handler {
	t.Helper()
	if o.Data == nil {
		ix := testIndex(t)
		o.Data = func() (*advisory.Index, datastore.Info, error) { return ix, testInfo, nil }
	}
	if o.Burst == 0 {
		o.Burst = 1000
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = "192.0.2.10:4711"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestAPIAnswers: the API answers with lookup's JSON, byte for byte what
// lookup.Ask renders (TestLookupAPIMatchesCLI in internal/cli holds it
// against the command itself), cacheable, with an ETag that revalidates.
func TestAPIAnswers(t *testing.T) {
	h := newHandler(t, Options{})
	ix, _, _ := h.o.Data()
	for _, tt := range []struct {
		name  string
		query string
		q     lookup.Query
	}{
		{"wr841n_v10", "model=TL-WR841N&hw=10", lookup.Query{Model: "TL-WR841N", HW: "10"}},
		{"archer_eu_old", "model=Archer+C7&region=EU&hw=2&fw=240926", lookup.Query{Model: "Archer C7", Region: "EU", HW: "2", Firmware: "240926"}},
		{"loose_with_empty_fields", "model=tl-wr841n+v10&hw=&region=&fw=&vendor=", lookup.Query{Model: "tl-wr841n v10"}},
		{"routeros", "model=RB951Ui-2HnD&vendor=mikrotik&fw=6.49.6", lookup.Query{Model: "RB951Ui-2HnD", Vendor: "mikrotik", Firmware: "6.49.6"}},
		{"unknown_model", "model=WRT54G&vendor=linksys", lookup.Query{Model: "WRT54G", Vendor: "linksys"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, APIPath+"?"+tt.query)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			res, err := lookup.Ask(ix, testInfo, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := res.WriteJSON(&want); err != nil {
				t.Fatal(err)
			}
			if w.Body.String() != want.String() {
				t.Fatalf("body\n%s\nwant\n%s", w.Body, want.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=300" {
				t.Errorf("Cache-Control %q", cc)
			}
			etag := w.Header().Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			again := get(h, APIPath+"?"+tt.query, "If-None-Match", `"other", W/`+etag)
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("revalidation: status %d with %d bytes, want 304 and none", again.Code, again.Body.Len())
			}
		})
	}
}

// TestRefusals: bad input is a 400 worded like the CLI (the parameter in
// place of the flag), in JSON for the API and on the form for the page;
// nothing reaches the matcher.
func TestRefusals(t *testing.T) {
	h := newHandler(t, Options{})
	long := strings.Repeat("A", lookup.MaxFieldLen+1)
	for _, tt := range []struct {
		name   string
		method string
		query  string
		status int
		msg    string
		field  string
		sugg   string
	}{
		{name: "no_model", query: "hw=10", status: 400, msg: "give a model, e.g. model=TL-WR841N&hw=10", field: "model"},
		{name: "empty_model", query: "model=+&hw=10", status: 400, msg: "give a model, e.g. model=TL-WR841N&hw=10", field: "model"},
		{name: "bad_hw", query: "model=TL-WR841N&hw=ten", status: 400, msg: `hw: "ten" is not a hardware revision (want 10, V10 or 10.0)`, field: "hw"},
		{name: "hw_conflict", query: "model=TL-WR841N+v10&hw=12", status: 400, msg: "the model says hardware V10 but hw says 12", field: "hw"},
		{name: "bad_region", query: "model=Archer+C7&region=XX", status: 400, msg: `region: "XX" is not a known market variant (known: `, field: "region"},
		{name: "typo", query: "model=841n", status: 400, msg: `no advisory names model "841n"; did you mean TL-WR841N`, field: "model", sugg: "TL-WR841N"},
		{name: "field_too_long", query: "model=" + long, status: 400, msg: "model: 201 bytes; at most 200", field: "model"},
		{name: "query_too_long", query: "model=x&fw=" + strings.Repeat("9", MaxQueryLen), status: 400, msg: fmt.Sprintf("query: %d bytes; at most %d", MaxQueryLen+11, MaxQueryLen)},
		{name: "unknown_parameter", query: "model=TL-WR841N&format=xml", status: 400, msg: `unknown parameter "format" (known: model, vendor, hw, region, fw)`, field: "format"},
		{name: "repeated", query: "model=TL-WR841N&hw=10&hw=12", status: 400, msg: "hw: given 2 times; give it once", field: "hw"},
		{name: "malformed", query: "model=%zz", status: 400, msg: "query: not a valid query string"},
		{name: "post", method: http.MethodPost, query: "model=TL-WR841N", status: 405, msg: "POST is not allowed; use GET"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{APIPath, PagePath} {
				method := tt.method
				if method == "" {
					method = http.MethodGet
				}
				r := httptest.NewRequest(method, path+"?"+tt.query, nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tt.status {
					t.Fatalf("%s: status %d, want %d: %s", path, w.Code, tt.status, w.Body)
				}
				if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: Cache-Control %q on a refusal", path, cc)
				}
				if path == PagePath {
					body := w.Body.String()
					if !strings.Contains(body, escaped(tt.msg)) || !strings.Contains(body, `<form method="get" action="/lookup">`) {
						t.Errorf("page lacks the message %q or the form:\n%s", tt.msg, body)
					}
					if tt.sugg != "" && !strings.Contains(body, `<a href="/lookup?model=`+tt.sugg+`">`+tt.sugg+`</a>`) {
						t.Errorf("page lacks a link to %s:\n%s", tt.sugg, body)
					}
					continue
				}
				var p struct {
					Error       string   `json:"error"`
					Field       string   `json:"field"`
					Suggestions []string `json:"suggestions"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatalf("API body is not JSON: %v\n%s", err, w.Body)
				}
				if !strings.HasPrefix(p.Error, tt.msg) || p.Field != tt.field {
					t.Errorf("API error %q field %q, want %q field %q", p.Error, p.Field, tt.msg, tt.field)
				}
				if tt.sugg != "" && (len(p.Suggestions) == 0 || p.Suggestions[0] != tt.sugg) {
					t.Errorf("suggestions %v, want %s first", p.Suggestions, tt.sugg)
				}
			}
		})
	}
}

// escaped is s as html/template writes text.
func escaped(s string) string {
	r := strings.NewReplacer(`"`, "&#34;", "&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;")
	return r.Replace(s)
}

// TestRateLimit: each client has its own bucket; a client over it gets 429
// with Retry-After and no work done, and is served again once the bucket
// refills.
func TestRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	calls := 0
	ix := testIndex(t)
	h := newHandler(t, Options{Rate: 0.5, Burst: 3, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Data: func() (*advisory.Index, datastore.Info, error) { calls++; return ix, testInfo, nil }})
	ask := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, APIPath+"?model=TL-WR841N&hw=10", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := ask("198.51.100.7:1000"); w.Code != 200 {
			t.Fatalf("request %d: status %d", i, w.Code)
		}
	}
	w := ask("198.51.100.7:1001")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("4th request: status %d, Retry-After %q; want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "too many lookups from your address; try again in 2 s") {
		t.Errorf("body %s", w.Body)
	}
	if calls != 3 {
		t.Errorf("the refused request reached the data (%d calls)", calls)
	}
	if w := ask("203.0.113.9:1000"); w.Code != 200 {
		t.Errorf("another client was refused: %d", w.Code)
	}
	// Every address of one IPv6 /64 is one client.
	for i := range 3 {
		ask(fmt.Sprintf("[2001:db8:1:2::%x]:80", i+1))
	}
	if w := ask("[2001:db8:1:2:ffff::1]:80"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a 4th address of the same /64 got %d, want 429", w.Code)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if w := ask("198.51.100.7:1002"); w.Code != 200 {
		t.Errorf("after the bucket refilled: status %d", w.Code)
	}
}

// TestLimiterBounded: a crowd of addresses never grows the table past
// MaxClients; the oldest client is forgotten first.
func TestLimiterBounded(t *testing.T) {
	l := newClientLimiter(1, 1, 100)
	now := time.Now()
	for i := range 10000 {
		l.allow(fmt.Sprintf("192.0.2.%d/%d", i%256, i), now)
	}
	if n := l.clients(); n != 100 {
		t.Fatalf("%d clients remembered, want 100", n)
	}
	// The most recent client is still limited; the first was forgotten
	// (a fresh bucket).
	if ok, _ := l.allow("192.0.2.15/9999", now); ok {
		t.Error("the most recent client got a second token")
	}
	if ok, _ := l.allow("192.0.2.0/0", now); !ok {
		t.Error("the oldest client was not forgotten")
	}
}

func TestRemoteAddrKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:443":              "192.0.2.1",
		"[::ffff:192.0.2.1]:443":     "192.0.2.1",
		"[2001:db8:a:b:c:d:e:f]:443": "2001:db8:a:b::/64",
		"[fe80::1%eth0]:443":         "fe80::/64",
		"garbage":                    "garbage",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		if got := RemoteAddrKey(r); got != want {
			t.Errorf("RemoteAddrKey(%s) = %q, want %q", addr, got, want)
		}
	}
}

// TestPage: the form alone without a question; the answer with the
// verdict, the steps and the data it came from; hostile input escaped;
// no script allowed. The rendered pages are golden files.
func TestPage(t *testing.T) {
	h := newHandler(t, Options{})
	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"form", "", 200},
		{"wr841n_v10", "model=TL-WR841N&hw=10", 200},
		{"archer_c7_eu_v2_old", "model=Archer+C7%28EU%29+V2&fw=240926", 200},
		{"wr841n_unknown_rev", "model=TL-WR841N", 200},
		{"unknown_model", "model=WRT54G&vendor=linksys", 200},
		{"typo", "model=841n&hw=10", 400},
		{"hostile", "model=%3Cscript%3Ealert(1)%3C%2Fscript%3E&fw=%22%3E%3Cimg+src%3Dx%3E", 400},
		{"hostile_answered", "model=WRT54G&vendor=%3Cimg+src%3Dx%3E&fw=%22%3E%3Cimg+src%3Dx%3E", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, PagePath+"?"+tt.query)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			body := w.Body.String()
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q", csp)
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
				t.Errorf("hostile input reached the page unescaped:\n%s", body)
			}
			testutil.Golden(t, "page/"+tt.name+".html", w.Body.Bytes())
		})
	}
	w := get(h, PagePath+"?model=TL-WR841N&hw=10")
	for _, want := range []string{"Verdict: AFFECTED (severity high)", "CVE-2023-50224", "Replace the router",
		"Data: built-in TEST (12 documents); local store 3 documents, updated 2026-11-30T10:00:00Z; CISA KEV catalog 2026.11.29 (1400 entries)."} {
		if !strings.Contains(w.Body.String(), escaped(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if link := `<a href="/api/v1/lookup?hw=10&amp;model=TL-WR841N">This answer as JSON</a>`; !strings.Contains(w.Body.String(), link) {
		t.Errorf("page lacks %s", link)
	}
	w = get(h, PagePath+"?model=TL-WR841N")
	if !strings.Contains(w.Body.String(), "give the hardware version") {
		t.Errorf("an answer waiting on the revision does not say so:\n%s", w.Body)
	}
}

// TestDataUnavailable: when the data cannot be read the client gets a 503
// without the cause (a file path), and the log gets the cause.
func TestDataUnavailable(t *testing.T) {
	var logged bytes.Buffer
	h := newHandler(t, Options{
		Data: func() (*advisory.Index, datastore.Info, error) {
			return nil, datastore.Info{}, errors.New("open /var/lib/secret: permission denied")
		},
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	w := get(h, APIPath+"?model=TL-WR841N")
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "/var/lib") {
		t.Errorf("status %d body %s", w.Code, w.Body)
	}
	if !strings.Contains(logged.String(), "permission denied") {
		t.Errorf("log %q lacks the cause", logged.String())
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("no Data accepted")
	}
	data := func() (*advisory.Index, datastore.Info, error) { return nil, datastore.Info{}, nil }
	if _, err := New(Options{Data: data, Burst: -1}); err == nil {
		t.Error("a negative burst accepted")
	}
}

// TestServedOverHTTP runs the handler behind a real server: other paths
// are 404, HEAD works, and the body arrives whole.
func TestServedOverHTTP(t *testing.T) {
	srv := httptest.NewServer(newHandler(t, Options{}))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + APIPath + "?" + url.Values{"model": {"TL-WR841N"}, "hw": {"10"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !json.Valid(b) {
		t.Fatalf("status %d body %s", res.StatusCode, b)
	}
	res, err = srv.Client().Head(srv.URL + PagePath + "?model=TL-WR841N")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("ETag") == "" {
		t.Errorf("HEAD: status %d", res.StatusCode)
	}
	res, err = srv.Client().Get(srv.URL + "/lookup/extra")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("/lookup/extra: %d, want 404", res.StatusCode)
	}
}

// FuzzQuery: any query string a stranger sends is answered or refused
// with a 400, on both front ends; never a panic or a 5xx.
func FuzzQuery(f *testing.F) {
	h := newHandler(f, Options{Rate: rate.Inf})
	for _, q := range []string{"model=TL-WR841N&hw=10", "model=841n", "model=%zz", "hw=10&hw=11", "model=TL-WR841N%2FND+(MS)+V9&fw=%00", ";;&=&"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, path := range []string{APIPath, PagePath} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path, r.URL.RawQuery = path, raw
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
				t.Fatalf("%s?%q: status %d", path, raw, w.Code)
			}
		}
	})
}
