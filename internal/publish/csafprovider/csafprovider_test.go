// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testOptions() Options {
	return Options{
		BaseURL:   "https://csaf.example.com",
		Publisher: Publisher{Category: "other", Name: "routerwatch project", Namespace: "https://github.com/routerwatch/routerwatch"},
		Now:       func() time.Time { return testNow },
	}
}

// builtinDoc returns one embedded document.
func builtinDoc(t testing.TB, name string) []byte {
	t.Helper()
	docs, err := builtin.Documents()
	if err != nil {
		t.Fatal(err)
	}
	b, ok := docs[name]
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	return b
}

// variant is a built-in document changed by edit (a valid CSAF document
// with another ID, label or date).
func variant(t testing.TB, edit func(doc map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(builtinDoc(t, "rw-2026-0001.json"), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func document(m map[string]any) map[string]any { return m["document"].(map[string]any) }
func tracking(m map[string]any) map[string]any {
	return document(m)["tracking"].(map[string]any)
}

// withID gives the document a tracking ID, TLP label ("" for none) and
// release dates.
func withID(id, tlp, initial, current string) func(map[string]any) {
	return func(m map[string]any) {
		tr := tracking(m)
		tr["id"] = id
		tr["initial_release_date"] = initial
		tr["current_release_date"] = current
		revs := tr["revision_history"].([]any)
		revs[0].(map[string]any)["date"] = initial
		if tlp != "" {
			document(m)["distribution"] = map[string]any{"tlp": map[string]any{"label": tlp}}
		}
	}
}

func testDocs(t testing.TB) []Document {
	t.Helper()
	return []Document{
		{Source: "built-in rw-2026-0001.json", Data: builtinDoc(t, "rw-2026-0001.json")},
		{Source: "built-in rw-2026-0008.json", Data: builtinDoc(t, "rw-2026-0008.json")},
		{Source: "white-2025", Data: variant(t, withID("RW-TEST-2025-01", "WHITE", "2025-03-04T05:06:07Z", "2026-01-02T03:04:05.5Z"))},
		{Source: "white-2024", Data: variant(t, withID("RW-TEST:2024/02", "WHITE", "2024-12-31T23:30:00-02:00", "2025-01-01T00:00:00Z"))},
	}
}

func build(t testing.TB, docs []Document, o Options) *Directory {
	t.Helper()
	d, err := Build(docs, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLayout: the files CSAF's requirements name are where they belong,
// with the content they must have; the deterministic ones are golden.
func TestLayout(t *testing.T) {
	d := build(t, testDocs(t), testOptions())
	if len(d.Refused) != 0 {
		t.Fatalf("refused: %+v", d.Refused)
	}
	want := []string{
		"/.well-known/csaf/",
		"/.well-known/csaf/provider-metadata.json",
		"/.well-known/csaf/unlabeled/",
		"/.well-known/csaf/unlabeled/2026/",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0001.json",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0001.json.sha256",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0001.json.sha512",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0008.json",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0008.json.sha256",
		"/.well-known/csaf/unlabeled/2026/rw-2026-0008.json.sha512",
		"/.well-known/csaf/unlabeled/changes.csv",
		"/.well-known/csaf/unlabeled/index.txt",
		"/.well-known/csaf/white/",
		// The initial release is 2025-01-01T01:30Z in UTC: the year
		// folder is UTC's.
		"/.well-known/csaf/white/2025/",
		"/.well-known/csaf/white/2025/rw-test-2025-01.json",
		"/.well-known/csaf/white/2025/rw-test-2025-01.json.sha256",
		"/.well-known/csaf/white/2025/rw-test-2025-01.json.sha512",
		"/.well-known/csaf/white/2025/rw-test_2024_02.json",
		"/.well-known/csaf/white/2025/rw-test_2024_02.json.sha256",
		"/.well-known/csaf/white/2025/rw-test_2024_02.json.sha512",
		"/.well-known/csaf/white/changes.csv",
		"/.well-known/csaf/white/index.txt",
		"/.well-known/security.txt",
	}
	if got := d.Paths(); !slices.Equal(got, want) {
		t.Fatalf("paths\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Documents are served byte for byte; hashes are of those bytes.
	for _, doc := range testDocs(t)[:1] {
		got, _ := d.File("/.well-known/csaf/unlabeled/2026/rw-2026-0001.json")
		if !bytes.Equal(got, doc.Data) {
			t.Error("the served document is not the original")
		}
		s256, _ := d.File("/.well-known/csaf/unlabeled/2026/rw-2026-0001.json.sha256")
		s512, _ := d.File("/.well-known/csaf/unlabeled/2026/rw-2026-0001.json.sha512")
		if string(s256) != fmt.Sprintf("%x  rw-2026-0001.json\n", sha256.Sum256(doc.Data)) ||
			string(s512) != fmt.Sprintf("%x  rw-2026-0001.json\n", sha512.Sum512(doc.Data)) {
			t.Errorf("hash files %q %q", s256, s512)
		}
	}
	for _, p := range []string{"/.well-known/csaf/provider-metadata.json", "/.well-known/csaf/white/index.txt",
		"/.well-known/csaf/white/changes.csv", "/.well-known/csaf/unlabeled/changes.csv", "/.well-known/security.txt",
		"/.well-known/csaf/white/2025/", "/.well-known/csaf/"} {
		b, _ := d.File(p)
		name := strings.NewReplacer("/.well-known/", "", "/", "_").Replace(strings.TrimSuffix(p, "/"))
		if strings.HasSuffix(p, "/") {
			name += "_listing.html"
		}
		testutil.Golden(t, "layout/"+name, b)
	}
	if got, want := d.ProviderMetadataURL(), "https://csaf.example.com/.well-known/csaf/provider-metadata.json"; got != want {
		t.Errorf("metadata URL %s", got)
	}
	var pub []string
	for _, p := range d.Published {
		pub = append(pub, p.TLP+" "+p.ID+" "+p.URL)
	}
	if len(pub) != 4 || pub[0] != "UNLABELED RW-2026-0001 https://csaf.example.com/.well-known/csaf/unlabeled/2026/rw-2026-0001.json" {
		t.Errorf("published:\n%s", strings.Join(pub, "\n"))
	}
}

// TestRefused: what cannot be published is reported with the reason and
// never served; the rest is published.
func TestRefused(t *testing.T) {
	good := Document{Source: "good", Data: builtinDoc(t, "rw-2026-0001.json")}
	for _, tt := range []struct {
		name   string
		doc    Document
		reason string
		id     string
	}{
		{name: "schema", doc: Document{Source: "s", Data: variant(t, func(m map[string]any) { delete(document(m), "title") })},
			reason: "not valid CSAF 2.0: ", id: ""},
		{name: "not_json", doc: Document{Source: "s", Data: []byte("{\"document\": ")}, reason: "not JSON: "},
		{name: "trailing", doc: Document{Source: "s", Data: append(builtinDoc(t, "rw-2026-0002.json"), []byte("{}")...)}, reason: "trailing data after the JSON document"},
		{name: "not_utf8", doc: Document{Source: "s", Data: []byte("{\"document\": \"\xff\"}")}, reason: "not valid UTF-8"},
		{name: "not_csaf", doc: Document{Source: "s", Data: []byte(`{"dataType": "CVE_RECORD"}`)}, reason: "not a CSAF document"},
		{name: "amber", doc: Document{Source: "s", Data: variant(t, withID("RW-A", "AMBER", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))},
			reason: "TLP:AMBER documents must be access-protected (CSAF requirement 5) and this directory is public; it is not published", id: "RW-A"},
		{name: "red", doc: Document{Source: "s", Data: variant(t, withID("RW-R", "RED", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))},
			reason: "TLP:RED documents must be access-protected", id: "RW-R"},
		{name: "green", doc: Document{Source: "s", Data: variant(t, withID("RW-G", "GREEN", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))},
			reason: "TLP:GREEN is shared within a community, not on the public Internet", id: "RW-G"},
		{name: "draft", doc: Document{Source: "s", Data: variant(t, func(m map[string]any) {
			withID("RW-D", "", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")(m)
			tr := tracking(m)
			tr["status"] = "draft"
			tr["version"] = "0.1.0"
			tr["revision_history"].([]any)[0].(map[string]any)["number"] = "0.1.0"
		})}, reason: "its tracking status is draft", id: "RW-D"},
		{name: "same_file_name", doc: Document{Source: "twin", Data: variant(t, withID("rw-2026-0001", "", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))},
			reason: "its file name rw-2026-0001.json is taken by good", id: "rw-2026-0001"},
		{name: "too_big", doc: Document{Source: "s", Data: bytes.Repeat([]byte(" "), 16<<20+1)}, reason: "above the 16777216 byte limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, []Document{good, tt.doc}, testOptions())
			if len(d.Published) != 1 || d.Published[0].Source != "good" {
				t.Errorf("published %+v, want the good document only", d.Published)
			}
			if len(d.Refused) != 1 {
				t.Fatalf("refused %+v, want one", d.Refused)
			}
			r := d.Refused[0]
			if r.Source != tt.doc.Source || !strings.Contains(r.Reason, tt.reason) || r.ID != tt.id {
				t.Errorf("refused %+v, want source %s, id %q, reason containing %q", r, tt.doc.Source, tt.id, tt.reason)
			}
			for _, p := range d.Paths() {
				if b, _ := d.File(p); strings.HasSuffix(p, ".json") && bytes.Equal(b, tt.doc.Data) {
					t.Errorf("the refused document is served at %s", p)
				}
			}
		})
	}
}

// TestPublisherMismatchWarns: a stored document of another publisher is
// published as it is, with a warning.
func TestPublisherMismatchWarns(t *testing.T) {
	o := testOptions()
	o.Publisher.Namespace = "https://psirt.example.com"
	d := build(t, testDocs(t)[:1], o)
	all := build(t, testDocs(t), o)
	if len(all.Warnings) != 1 || !strings.HasPrefix(all.Warnings[0], "4 documents (RW-2026-0001, RW-2026-0008, RW-TEST-2025-01 and 1 more) name") {
		t.Errorf("warnings %q", all.Warnings)
	}
	if len(d.Warnings) != 1 || d.Warnings[0] != `1 document (RW-2026-0001) names the publisher namespace "https://github.com/routerwatch/routerwatch", not the directory's "https://psirt.example.com"; it is published as it is` {
		t.Errorf("warnings %q", d.Warnings)
	}
}

// TestOptionsRefused: options that would give an invalid or misleading
// directory are refused before anything is built.
func TestOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no_base", func(o *Options) { o.BaseURL = "" }, "base URL: required"},
		{"http", func(o *Options) { o.BaseURL = "http://example.com" }, "serve over https"},
		{"path", func(o *Options) { o.BaseURL = "https://example.com/csaf" }, "give the origin only"},
		{"query", func(o *Options) { o.BaseURL = "https://example.com/?x=1" }, "give the origin only"},
		{"credentials", func(o *Options) { o.BaseURL = "https://u:p@example.com" }, "give the origin only"},
		{"category", func(o *Options) { o.Publisher.Category = "company" }, `publisher category "company"`},
		{"name", func(o *Options) { o.Publisher.Name = " " }, "publisher name: required"},
		{"namespace", func(o *Options) { o.Publisher.Namespace = "routerwatch" }, "publisher namespace"},
		{"role", func(o *Options) { o.Role = "csaf_aggregator" }, `role "csaf_aggregator"`},
		{"trusted_unsigned", func(o *Options) { o.Role = RoleTrustedProvider }, "needs a signing key"},
		{"contact", func(o *Options) { o.SecurityContacts = []string{"security@example.com"} }, "want a mailto:"},
		{"contact_newline", func(o *Options) { o.SecurityContacts = []string{"mailto:a@example.com\nCSAF: https://evil.example"} }, "want a mailto:"},
		{"bad_key", func(o *Options) { o.SigningKey = []byte("not a key") }, "signing key: not an armored OpenPGP key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			tt.edit(&o)
			_, err := Build(testDocs(t), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSigned: every document has a detached signature that verifies with
// the published key, the metadata lists the key with its fingerprint, and
// the ROLIE feeds list documents, hashes and signatures.
func TestSigned(t *testing.T) {
	o := testOptions()
	o.SigningKey = testSigningKey(t, []byte("correct horse")...)
	o.SigningPassphrase = []byte("correct horse")
	d := build(t, testDocs(t), o)
	var pmd struct {
		Keys []struct {
			Fingerprint string `json:"fingerprint"`
			URL         string `json:"url"`
		} `json:"public_openpgp_keys"`
		Distributions []struct {
			DirectoryURL string `json:"directory_url"`
			ROLIE        struct {
				Feeds []struct {
					TLP string `json:"tlp_label"`
					URL string `json:"url"`
				} `json:"feeds"`
			} `json:"rolie"`
		} `json:"distributions"`
	}
	b, _ := d.File(WellKnown + "provider-metadata.json")
	if err := json.Unmarshal(b, &pmd); err != nil {
		t.Fatal(err)
	}
	if len(pmd.Keys) != 1 || pmd.Keys[0].Fingerprint != d.Fingerprint || len(d.Fingerprint) != 40 {
		t.Fatalf("keys %+v, fingerprint %s", pmd.Keys, d.Fingerprint)
	}
	keyPath := strings.TrimPrefix(pmd.Keys[0].URL, "https://csaf.example.com")
	key, ok := d.File(keyPath)
	if !ok {
		t.Fatalf("key %s not served", keyPath)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil || ring[0].PrivateKey != nil {
		t.Fatalf("published key: %v (private part present: %v)", err, err == nil && ring[0].PrivateKey != nil)
	}
	for _, p := range d.Published {
		path := strings.TrimPrefix(p.URL, "https://csaf.example.com")
		doc, _ := d.File(path)
		sig, ok := d.File(path + ".asc")
		if !ok {
			t.Fatalf("no signature for %s", path)
		}
		if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(doc), bytes.NewReader(sig), nil); err != nil {
			t.Errorf("%s: signature does not verify: %v", path, err)
		}
	}
	feeds := map[string]string{}
	for _, dist := range pmd.Distributions {
		for _, f := range dist.ROLIE.Feeds {
			feeds[f.TLP] = f.URL
		}
	}
	if feeds["WHITE"] != "https://csaf.example.com/.well-known/csaf/white/csaf-feed-tlp-white.json" || feeds["UNLABELED"] == "" {
		t.Fatalf("feeds %v", feeds)
	}
	feed, _ := d.File(WellKnown + "white/csaf-feed-tlp-white.json")
	for _, want := range []string{`"rel": "signature"`, `"href": "https://csaf.example.com/.well-known/csaf/white/2025/rw-test-2025-01.json.sha512"`,
		`"id": "RW-TEST-2025-01"`, `"href": "https://csaf.example.com/.well-known/csaf/service.json"`} {
		if !bytes.Contains(feed, []byte(want)) {
			t.Errorf("feed lacks %s:\n%s", want, feed)
		}
	}
	cat, _ := d.File(WellKnown + "unlabeled/category-unlabeled.json")
	for _, want := range []string{`"term": "csaf_base"`, `"term": "csaf_security_advisory"`, `"term": "vendor: TP-Link"`} {
		if !bytes.Contains(cat, []byte(want)) {
			t.Errorf("category document lacks %s:\n%s", want, cat)
		}
	}
	// A protected key needs its passphrase, and the right one.
	o.SigningPassphrase = nil
	if _, err := Build(testDocs(t), o); err == nil || !strings.Contains(err.Error(), "give the passphrase") {
		t.Errorf("protected key without passphrase: %v", err)
	}
	o.SigningPassphrase = []byte("wrong")
	if _, err := Build(testDocs(t), o); err == nil || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "does not unlock") {
		t.Errorf("wrong passphrase: %v", err)
	}
}

// TestServe: the handler serves files with their types and caching
// headers, listings, the DNS path, one redirect for a directory without
// its slash, and nothing else.
func TestServe(t *testing.T) {
	d := build(t, testDocs(t), testOptions())
	h := NewHandler(d)
	do := func(method, host, target string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		if host != "" {
			r.Host = host
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	doc := "/.well-known/csaf/unlabeled/2026/rw-2026-0001.json"
	w := do("GET", "", doc)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || !bytes.Equal(w.Body.Bytes(), builtinDoc(t, "rw-2026-0001.json")) {
		t.Fatalf("document: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Cache-Control") != "public, max-age=300" || w.Header().Get("Last-Modified") == "" {
		t.Errorf("headers %v", w.Header())
	}
	if w := do("GET", "", doc, "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", w.Code)
	}
	if w := do("HEAD", "", doc); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := do("POST", "", doc); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	w = do("GET", "", "/.well-known/csaf/white/2025/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<a href="rw-test-2025-01.json">rw-test-2025-01.json</a>`) ||
		!strings.Contains(w.Body.String(), `<a href="../">../</a>`) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("listing: %d\n%s", w.Code, w.Body)
	}
	if w := do("GET", "", "/.well-known/csaf/white"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/.well-known/csaf/white/" {
		t.Errorf("directory without slash: %d %s", w.Code, w.Header().Get("Location"))
	}
	for _, p := range []string{"/", "/.well-known/csaf/../csaf/provider-metadata.json", "/.well-known/csaf/white/2025/nothing.json", "/etc/passwd"} {
		if w := do("GET", "", p); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
	pmd, _ := d.File(WellKnown + "provider-metadata.json")
	if w := do("GET", "CSAF.data.security.example.com", "/"); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), pmd) {
		t.Errorf("DNS path: %d", w.Code)
	}
	if w := do("GET", "", SecurityTxtPath); w.Code != 200 || !strings.Contains(w.Body.String(), "CSAF: https://csaf.example.com/.well-known/csaf/provider-metadata.json\n") {
		t.Errorf("security.txt: %d\n%s", w.Code, w.Body)
	}
	// A new directory takes over at once.
	o := testOptions()
	o.BaseURL = "https://other.example"
	h.Set(build(t, testDocs(t)[:1], o))
	if w := do("GET", "", "/.well-known/csaf/white/2025/rw-test-2025-01.json"); w.Code != http.StatusNotFound {
		t.Errorf("after Set, the old directory's document: %d", w.Code)
	}
	if h.Current().ProviderMetadataURL() != "https://other.example/.well-known/csaf/provider-metadata.json" {
		t.Error("Current is not the new directory")
	}
}

// TestSources: the built-in documents, then the store's CSAF documents;
// a stored document replaces a built-in one with its ID; CVE records and
// the KEV catalog are not published.
func TestSources(t *testing.T) {
	bi, err := Sources(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(bi) != 12 || bi[0].Source != "built-in rw-2026-0001.json" {
		t.Fatalf("%d built-in sources, first %q", len(bi), bi[0].Source)
	}
	replacement := variant(t, withID("RW-2026-0002", "WHITE", "2026-11-26T00:00:00Z", "2026-12-01T00:00:00Z"))
	var items []datastore.Item
	for _, data := range [][]byte{replacement, variant(t, withID("RW-STORE-1", "WHITE", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))} {
		p, err := datastore.Parse(data, "/import/doc.json")
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, p.Item)
	}
	items = append(items, datastore.Item{Kind: datastore.KindCVE, ID: "CVE-2099-0001", Source: "x", Data: []byte("{}")})
	s := datastore.New(t.TempDir())
	if _, err := s.Put(items, nil); err != nil {
		t.Fatal(err)
	}
	docs, err := Sources(s, true)
	if err != nil {
		t.Fatal(err)
	}
	only, err := Sources(s, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 2 || only[0].Source != "store RW-2026-0002 (from /import/doc.json)" {
		t.Errorf("store only: %d documents", len(only))
	}
	if len(docs) != 13 {
		t.Fatalf("%d documents, want 12 built-in (one replaced) and one more", len(docs))
	}
	if !bytes.Equal(docs[1].Data, replacement) || docs[1].Source != "store RW-2026-0002 (from /import/doc.json)" {
		t.Errorf("the stored RW-2026-0002 did not replace the built-in one: %s", docs[1].Source)
	}
	if docs[12].Source != "store RW-STORE-1 (from /import/doc.json)" {
		t.Errorf("last source %q", docs[12].Source)
	}
	d := build(t, docs, testOptions())
	if len(d.Published) != 13 || len(d.Refused) != 0 {
		t.Errorf("published %d, refused %+v", len(d.Published), d.Refused)
	}
	// A store that cannot be read is an error, not fewer documents.
	if os.Geteuid() != 0 {
		if err := os.Chmod(filepath.Join(s.Dir), 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(s.Dir, 0o755)
		if _, err := Sources(s, true); err == nil {
			t.Error("an unreadable store gave no error")
		}
	}
}

// FuzzCheck: any bytes offered as a document are refused with a reason or
// published under a conforming name; never a panic.
func FuzzCheck(f *testing.F) {
	docs, err := builtin.Documents()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(docs["rw-2026-0001.json"])
	f.Add(docs["rw-2026-0008.json"])
	f.Add([]byte(`{"document": {"csaf_version": "2.0"}}`))
	f.Add([]byte(`{"document": null} {}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, reason := check(Document{Source: "fuzz", Data: data})
		if reason != "" {
			return
		}
		if a.name == "" || a.name != strings.ToLower(a.name) || !strings.HasSuffix(a.name, ".json") || strings.ContainsAny(a.name, "/\\") {
			t.Fatalf("accepted with file name %q", a.name)
		}
		if a.folder != "white" && a.folder != "unlabeled" {
			t.Fatalf("accepted into folder %q", a.folder)
		}
	})
}
