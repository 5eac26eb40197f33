// SPDX-License-Identifier: Apache-2.0

// Package csafprovider builds a CSAF 2.0 provider directory from
// routerwatch's advisories (the built-in CSAF documents and the CSAF
// documents of the local advisory store) and serves it, or writes it to a
// web root, under /.well-known/csaf/:
//
//	/.well-known/csaf/provider-metadata.json    role, publisher, distributions, keys
//	/.well-known/csaf/service.json              ROLIE service document (every feed)
//	/.well-known/csaf/openpgp/<FINGERPRINT>.asc the public key, when signing
//	/.well-known/csaf/<tlp>/                     "white" (TLP:WHITE) or "unlabeled"
//	    csaf-feed-tlp-<tlp>.json                ROLIE feed (CSAF 2.0 §7.1.15)
//	    category-<tlp>.json                     ROLIE category document
//	    index.txt, changes.csv                  §7.1.12, §7.1.13
//	    <year>/<id>.json (.sha256 .sha512 .asc) one folder per initial release year
//	/.well-known/security.txt                   with the CSAF: line (§7.1.8)
//
// and provider-metadata.json at "/" for a host named csaf.data.security.*
// (the DNS path, §7.1.10). Every directory has an HTML listing (§7.1.14).
//
// The contract: only documents that pass csaf.ValidateCSAF (gocsaf's
// schemas, no network) and the checks gocsaf's csaf_checker makes of a
// served document (a tracking ID that gives a conforming file name, RFC
// 3339 release dates, one JSON value, UTF-8) are published, unchanged,
// byte for byte; any other document is listed in Directory.Refused with
// the reason and never served. TLP:GREEN, TLP:AMBER and TLP:RED documents
// are refused too: this directory is public, and CSAF's requirement 5
// wants AMBER and RED access-protected (GREEN is for a community, not the
// Internet). A Directory is immutable once built and safe for concurrent
// use; Handler swaps one for the next when the data changes.
package csafprovider

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/gocsaf/csaf/v3/util"

	"github.com/routerwatch/routerwatch/internal/advisory/csafsrc"
)

// Roles a provider directory may declare (provider-metadata.json "role").
const (
	RolePublisher       = "csaf_publisher"
	RoleProvider        = "csaf_provider"
	RoleTrustedProvider = "csaf_trusted_provider"
)

// WellKnown is the directory's path on the server.
const WellKnown = "/.well-known/csaf/"

// SecurityTxtPath is where RFC 9116 puts security.txt.
const SecurityTxtPath = "/.well-known/security.txt"

// DNSPathPrefix starts the host name of CSAF's DNS path (requirement 10):
// csaf.data.security.example.com serves provider-metadata.json at "/".
const DNSPathPrefix = "csaf.data.security."

// securityTxtLifetime is how far ahead security.txt's Expires lies: RFC
// 9116 §2.5.5 recommends less than a year, so that a forgotten file
// expires rather than misleads.
const securityTxtLifetime = 180 * 24 * time.Hour

// Publisher is the provider-metadata.json publisher object (CSAF 2.0
// §3.2.1.8; the same object as in documents).
type Publisher struct {
	// Category is one of coordinator, discoverer, other, translator,
	// user, vendor.
	Category string
	Name     string
	// Namespace is the publisher's URL (https://psirt.example.com).
	Namespace        string
	ContactDetails   string
	IssuingAuthority string
}

// Options configure Build.
type Options struct {
	// BaseURL is the https origin the directory is served at
	// (https://example.com): every URL in the feeds and the metadata
	// starts with it. Required; no path, query or credentials.
	BaseURL   string
	Publisher Publisher
	// Role is RoleProvider when empty. RoleTrustedProvider needs a
	// signing key.
	Role string
	// SigningKey is an armored OpenPGP private key; when set every
	// document gets a detached signature (.asc) and the public key is
	// published and listed in public_openpgp_keys. SigningPassphrase
	// unlocks it when it is protected.
	SigningKey        []byte
	SigningPassphrase []byte
	// ListOnAggregators and MirrorOnAggregators are the metadata's
	// list_on_CSAF_aggregators and mirror_on_CSAF_aggregators.
	ListOnAggregators   bool
	MirrorOnAggregators bool
	// SecurityContacts are the Contact: lines of the generated
	// security.txt (mailto: or https: URIs); RFC 9116 wants at least one.
	SecurityContacts []string
	// Now is the clock (last_updated, security.txt's Expires); time.Now
	// when nil.
	Now func() time.Time
}

// Document is one CSAF document offered for publication.
type Document struct {
	// Source says where it came from, for the report ("built-in
	// rw-2026-0001.json", "store: /path/icsa-20-196-02.json").
	Source string
	Data   []byte
}

// Published is a document the directory serves.
type Published struct {
	Source string
	ID     string
	TLP    string // WHITE or UNLABELED
	URL    string
}

// Refused is a document the directory does not serve, and why.
type Refused struct {
	Source string
	ID     string // "" when none could be read
	Reason string
}

// Directory is a built provider directory.
type Directory struct {
	files    map[string]*file // by URL path
	pmdURL   string
	security []byte

	Published []Published
	Refused   []Refused
	// Warnings are things worth knowing that do not stop publication
	// (a document whose publisher is not the directory's).
	Warnings []string
	// Fingerprint is the signing key's, "" when unsigned.
	Fingerprint string
	Updated     time.Time
}

// file is one served file.
type file struct {
	data        []byte
	contentType string
	modTime     time.Time
	etag        string
}

// tlpFolder is a TLP label's folder name; only public labels have one.
var tlpFolder = map[string]string{csaf.TLPLabelWhite: "white", csaf.TLPLabelUnlabeled: "unlabeled"}

// publisherCategories are CSAF 2.0's publisher categories.
var publisherCategories = []string{"coordinator", "discoverer", "other", "translator", "user", "vendor"}

// ProviderMetadataURL is the metadata's URL for a base URL.
func ProviderMetadataURL(baseURL string) string {
	return strings.TrimSuffix(baseURL, "/") + WellKnown + "provider-metadata.json"
}

// checkOptions validates o and returns the base URL without a trailing
// slash.
func checkOptions(o *Options) (string, error) {
	u, err := url.Parse(o.BaseURL)
	switch {
	case o.BaseURL == "":
		return "", errors.New("base URL: required (the https origin the directory is served at, e.g. https://example.com)")
	case err != nil:
		return "", fmt.Errorf("base URL: %w", err)
	case u.Scheme != "https":
		return "", fmt.Errorf("base URL %q: CSAF providers serve over https (requirement 3)", o.BaseURL)
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("base URL %q: give the origin only (https://host[:port]); the directory lives under %s", o.BaseURL, WellKnown)
	}
	p := o.Publisher
	if !slices.Contains(publisherCategories, p.Category) {
		return "", fmt.Errorf("publisher category %q: want one of %s", p.Category, strings.Join(publisherCategories, ", "))
	}
	if strings.TrimSpace(p.Name) == "" {
		return "", errors.New("publisher name: required")
	}
	if ns, err := url.Parse(p.Namespace); err != nil || ns.Scheme == "" || ns.Host == "" {
		return "", fmt.Errorf("publisher namespace %q: want the publisher's URL (https://psirt.example.com)", p.Namespace)
	}
	switch o.Role {
	case "":
		o.Role = RoleProvider
	case RolePublisher, RoleProvider:
	case RoleTrustedProvider:
		if len(o.SigningKey) == 0 {
			return "", errors.New("role csaf_trusted_provider: needs a signing key (requirements 19 and 20)")
		}
	default:
		return "", fmt.Errorf("role %q: want %s, %s or %s", o.Role, RolePublisher, RoleProvider, RoleTrustedProvider)
	}
	for _, c := range o.SecurityContacts {
		if cu, err := url.Parse(c); err != nil || (cu.Scheme != "mailto" && cu.Scheme != "https" && cu.Scheme != "tel") || strings.ContainsAny(c, "\r\n") {
			return "", fmt.Errorf("security contact %q: want a mailto:, https: or tel: URI (RFC 9116 §2.5.3)", c)
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return strings.TrimSuffix(o.BaseURL, "/"), nil
}

// accepted is a document that passed every check.
type accepted struct {
	doc     Document
	sum     *csaf.AdvisorySummary
	folder  string // white, unlabeled
	name    string // file name
	year    string
	terms   []string // ROLIE categories
	relPath string   // <year>/<name>
}

// Build checks docs and lays out the directory. Documents that fail are
// in Refused; an error is about the options or the signing key.
func Build(docs []Document, o Options) (*Directory, error) {
	base, err := checkOptions(&o)
	if err != nil {
		return nil, err
	}
	var signer *openpgp.Entity
	if len(o.SigningKey) > 0 {
		if signer, err = readSigningKey(o.SigningKey, o.SigningPassphrase); err != nil {
			return nil, err
		}
	}
	now := o.Now().UTC().Truncate(time.Second)
	d := &Directory{files: map[string]*file{}, pmdURL: ProviderMetadataURL(base), Updated: now}
	if signer != nil {
		d.Fingerprint = fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint)
	}

	byName := map[string]string{}    // file name → source that took it
	otherNS := map[string][]string{} // another publisher's namespace → its documents
	var ok []accepted
	for _, doc := range docs {
		a, reason := check(doc)
		if reason != "" {
			id := ""
			if a.sum != nil {
				id = a.sum.ID
			}
			d.Refused = append(d.Refused, Refused{Source: doc.Source, ID: id, Reason: reason})
			continue
		}
		if prev, dup := byName[a.name]; dup {
			d.Refused = append(d.Refused, Refused{Source: doc.Source, ID: a.sum.ID,
				Reason: fmt.Sprintf("its file name %s is taken by %s (tracking IDs that differ only in case or punctuation)", a.name, prev)})
			continue
		}
		byName[a.name] = doc.Source
		if ns := publisherNamespace(a.sum); ns != o.Publisher.Namespace {
			otherNS[ns] = append(otherNS[ns], a.sum.ID)
		}
		ok = append(ok, a)
	}

	for _, ns := range slices.Sorted(maps.Keys(otherNS)) {
		ids := otherNS[ns]
		msg := "%d documents (%s) name the publisher namespace %q, not the directory's %q; they are published as they are"
		if len(ids) == 1 {
			msg = "%d document (%s) names the publisher namespace %q, not the directory's %q; it is published as it is"
		}
		d.Warnings = append(d.Warnings, fmt.Sprintf(msg, len(ids), abbreviate(ids, 3), ns, o.Publisher.Namespace))
	}

	// Folders: TLP:WHITE always (a consumer looks for it; CSAF wants a
	// WHITE, GREEN or unlabeled feed), unlabeled when a document is.
	folders := []string{"white"}
	if slices.ContainsFunc(ok, func(a accepted) bool { return a.folder == "unlabeled" }) {
		folders = append(folders, "unlabeled")
	}
	// ROLIE feeds only with signatures: csaf_checker v3.7.0 takes a feed
	// entry without a signature link for a non-https URL (requirement 3)
	// and fails the whole domain, although CSAF 2.0 asks signatures of
	// trusted providers only. Unsigned, the directory distribution
	// (requirements 11-14) is the provider's one, as the standard allows.
	withROLIE := signer != nil
	var feeds []csaf.Feed
	var dists []csaf.Distribution
	for _, folder := range folders {
		var in []accepted
		for _, a := range ok {
			if a.folder == folder {
				in = append(in, a)
			}
		}
		feed, err := d.addFolder(base, folder, in, signer, now)
		if err != nil {
			return nil, err
		}
		dist := csaf.Distribution{DirectoryURL: base + WellKnown + folder + "/"}
		if withROLIE {
			feeds = append(feeds, feed)
			dist.Rolie = &csaf.ROLIE{Feeds: []csaf.Feed{feed}}
		}
		dists = append(dists, dist)
	}
	if withROLIE {
		if err := d.addService(base, feeds, now); err != nil {
			return nil, err
		}
	}
	if err := d.addMetadata(base, o, dists, signer, now); err != nil {
		return nil, err
	}
	d.security = securityTxt(d.pmdURL, o.SecurityContacts, now)
	d.put(SecurityTxtPath, d.security, "text/plain; charset=utf-8", now)
	d.addListings(now)
	slices.SortFunc(d.Published, func(a, b Published) int { return cmp.Compare(a.URL, b.URL) })
	return d, nil
}

// publisherNamespace is a document's publisher namespace, "" when none.
func publisherNamespace(s *csaf.AdvisorySummary) string {
	if s.Publisher == nil || s.Publisher.Namespace == nil {
		return ""
	}
	return *s.Publisher.Namespace
}

// abbreviate lists the first n of ids and how many more there are.
func abbreviate(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:n], ", ") + fmt.Sprintf(" and %d more", len(ids)-n)
}

// check reads one document the way csaf_checker will: it returns the
// reason it cannot be published, or "".
func check(doc Document) (accepted, string) {
	a := accepted{doc: doc}
	if len(doc.Data) > csafsrc.MaxDocumentSize {
		return a, fmt.Sprintf("%d bytes, above the %d byte limit", len(doc.Data), csafsrc.MaxDocumentSize)
	}
	if !utf8.Valid(doc.Data) {
		return a, "not valid UTF-8"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc.Data))
	if err := dec.Decode(&v); err != nil {
		return a, "not JSON: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return a, "trailing data after the JSON document"
	}
	if m, isObj := v.(map[string]any); !isObj || m["document"] == nil {
		return a, csafsrc.ErrNotCSAF.Error()
	}
	problems, err := csaf.ValidateCSAF(v)
	if err != nil {
		return a, "schema validation: " + err.Error()
	}
	if len(problems) > 0 {
		return a, (&csafsrc.SchemaError{Problems: problems}).Error()
	}
	sum, err := csaf.NewAdvisorySummary(util.NewPathEval(), v)
	if err != nil {
		return a, "reading the tracking data: " + err.Error()
	}
	a.sum = sum
	if sum.Status == "draft" {
		return a, "its tracking status is draft; only interim and final documents are published"
	}
	label := strings.ToUpper(sum.TLPLabel)
	if label == "" {
		label = csaf.TLPLabelUnlabeled
	}
	folder, public := tlpFolder[label]
	if !public {
		why := "TLP:" + label + " documents must be access-protected (CSAF requirement 5) and this directory is public"
		if label == csaf.TLPLabelGreen {
			why = "TLP:GREEN is shared within a community, not on the public Internet, and this directory is public"
		}
		return a, why + "; it is not published"
	}
	a.folder = folder
	a.name = util.CleanFileName(sum.ID)
	if !util.ConformingFileName(a.name) || a.name == ".json" {
		return a, fmt.Sprintf("tracking ID %q gives no conforming file name", sum.ID)
	}
	a.year = strconv.Itoa(sum.InitialReleaseDate.UTC().Year())
	a.relPath = a.year + "/" + a.name
	a.terms = categoryTerms(v)
	return a, ""
}

// categoryTerms are the ROLIE categories of one document (CSAF 2.0
// §7.1.17 suggests the document category and the product tree's
// vendors): "csaf_security_advisory", "vendor: TP-Link".
func categoryTerms(doc any) []string {
	var terms []string
	m, _ := doc.(map[string]any)
	if d, ok := m["document"].(map[string]any); ok {
		if c, ok := d["category"].(string); ok && c != "" {
			terms = append(terms, c)
		}
	}
	var walk func(any)
	walk = func(v any) {
		bs, _ := v.([]any)
		for _, b := range bs {
			bm, _ := b.(map[string]any)
			if bm["category"] == "vendor" {
				if n, ok := bm["name"].(string); ok && n != "" && len(n) <= 200 {
					terms = append(terms, "vendor: "+n)
				}
				continue // vendors do not nest
			}
			walk(bm["branches"])
		}
	}
	if pt, ok := m["product_tree"].(map[string]any); ok {
		walk(pt["branches"])
	}
	return terms
}

// put adds one file.
func (d *Directory) put(p string, data []byte, contentType string, mod time.Time) {
	sum := sha256.Sum256(data)
	d.files[p] = &file{data: data, contentType: contentType, modTime: mod,
		etag: `"` + fmt.Sprintf("%x", sum[:16]) + `"`}
}

// putJSON adds a JSON file made by one of gocsaf's writers.
func (d *Directory) putJSON(p string, w io.WriterTo, mod time.Time) error {
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	d.put(p, b.Bytes(), "application/json", mod)
	return nil
}

// addFolder lays out one TLP folder: the documents with their hashes and
// signatures, index.txt, changes.csv, the ROLIE feed and category
// document. It returns the feed's entry for the metadata.
func (d *Directory) addFolder(base, folder string, docs []accepted, signer *openpgp.Entity, now time.Time) (csaf.Feed, error) {
	dir := WellKnown + folder + "/"
	label := csaf.TLPLabel(strings.ToUpper(folder))
	feedName := "csaf-feed-tlp-" + folder + ".json"
	feedURL := base + dir + feedName
	rolie := &csaf.ROLIEFeed{Feed: csaf.FeedData{
		ID:    "csaf-feed-tlp-" + folder,
		Title: "CSAF feed (TLP:" + string(label) + ")",
		Link: []csaf.Link{{Rel: "self", HRef: feedURL},
			{Rel: "service", HRef: base + WellKnown + "service.json"}},
		Category: []csaf.ROLIECategory{{Scheme: "urn:ietf:params:rolie:category:information-type", Term: "csaf"}},
		Updated:  csaf.TimeStamp(now),
		Entry:    []*csaf.Entry{},
	}}
	var index []string
	var terms []string
	for _, a := range docs {
		docURL := base + dir + a.relPath
		p := dir + a.relPath
		d.put(p, a.doc.Data, "application/json", a.sum.CurrentReleaseDate)
		s256 := sha256.Sum256(a.doc.Data)
		s512 := sha512.Sum512(a.doc.Data)
		// "hex  name" as sha256sum writes it (requirement 18).
		d.put(p+".sha256", fmt.Appendf(nil, "%x  %s\n", s256, a.name), "text/plain; charset=utf-8", a.sum.CurrentReleaseDate)
		d.put(p+".sha512", fmt.Appendf(nil, "%x  %s\n", s512, a.name), "text/plain; charset=utf-8", a.sum.CurrentReleaseDate)
		links := []csaf.Link{{Rel: "self", HRef: docURL},
			{Rel: "hash", HRef: docURL + ".sha256"}, {Rel: "hash", HRef: docURL + ".sha512"}}
		if signer != nil {
			var sig bytes.Buffer
			if err := openpgp.ArmoredDetachSign(&sig, signer, bytes.NewReader(a.doc.Data), nil); err != nil {
				return csaf.Feed{}, fmt.Errorf("signing %s: %w", a.sum.ID, err)
			}
			sig.WriteByte('\n')
			d.put(p+".asc", sig.Bytes(), "application/pgp-signature", a.sum.CurrentReleaseDate)
			links = append(links, csaf.Link{Rel: "signature", HRef: docURL + ".asc"})
		}
		e := &csaf.Entry{
			ID: a.sum.ID, Titel: a.sum.Title, Link: links,
			Published: csaf.TimeStamp(a.sum.InitialReleaseDate), Updated: csaf.TimeStamp(a.sum.CurrentReleaseDate),
			Content: csaf.Content{Type: "application/json", Src: docURL},
			Format:  csaf.Format{Schema: "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", Version: "2.0"},
		}
		if a.sum.Summary != "" {
			e.Summary = &csaf.Summary{Content: a.sum.Summary}
		}
		rolie.Feed.Entry = append(rolie.Feed.Entry, e)
		index = append(index, a.relPath)
		terms = append(terms, a.terms...)
		d.Published = append(d.Published, Published{Source: a.doc.Source, ID: a.sum.ID, TLP: string(label), URL: docURL})
	}
	// Newest first, then by ID, so that the same documents give the
	// same feed.
	slices.SortStableFunc(rolie.Feed.Entry, func(a, b *csaf.Entry) int {
		if c := time.Time(b.Updated).Compare(time.Time(a.Updated)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if signer != nil { // ROLIE only when signed: see Build
		if err := validateROLIE(rolie); err != nil {
			return csaf.Feed{}, err
		}
		if err := d.putJSON(dir+feedName, rolie, now); err != nil {
			return csaf.Feed{}, err
		}
		if err := d.putJSON(dir+"category-"+folder+".json", csaf.NewROLIECategoryDocument(terms...), now); err != nil {
			return csaf.Feed{}, err
		}
	}

	sort.Strings(index)
	d.put(dir+"index.txt", []byte(strings.Join(append(index, ""), "\n")), "text/plain; charset=utf-8", now)
	d.put(dir+"changes.csv", changesCSV(docs), "text/csv; charset=utf-8", now)

	u := csaf.JSONURL(feedURL)
	return csaf.Feed{Summary: "TLP:" + string(label) + " advisories", TLPLabel: &label, URL: &u}, nil
}

// changesCSV is requirement 13's file: every document with its
// current_release_date, newest first, fields quoted as CSAF 2.0 shows.
func changesCSV(docs []accepted) []byte {
	sorted := slices.Clone(docs)
	slices.SortStableFunc(sorted, func(a, b accepted) int {
		if c := b.sum.CurrentReleaseDate.Compare(a.sum.CurrentReleaseDate); c != 0 {
			return c
		}
		return cmp.Compare(a.relPath, b.relPath)
	})
	var b bytes.Buffer
	for _, a := range sorted {
		// File names and RFC 3339 dates hold nothing that needs
		// escaping; the quotes are the format's.
		fmt.Fprintf(&b, "%q,%q\n", a.relPath, a.sum.CurrentReleaseDate.UTC().Format(time.RFC3339Nano))
	}
	return b.Bytes()
}

// validateROLIE checks a feed against CSAF's ROLIE feed schema, as
// csaf_checker will.
func validateROLIE(f *csaf.ROLIEFeed) error {
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		return err
	}
	problems, err := csaf.ValidateROLIE(v)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("feed %s is not valid ROLIE: %s", f.Feed.ID, strings.Join(problems, "; "))
	}
	return nil
}

// addService writes the ROLIE service document listing every feed.
func (d *Directory) addService(base string, feeds []csaf.Feed, now time.Time) error {
	cats := csaf.ROLIEServiceWorkspaceCollectionCategories{Category: []csaf.ROLIEServiceWorkspaceCollectionCategoriesCategory{
		{Scheme: "urn:ietf:params:rolie:category:information-type", Term: "csaf"}}}
	var cols []csaf.ROLIEServiceWorkspaceCollection
	for _, f := range feeds {
		cols = append(cols, csaf.ROLIEServiceWorkspaceCollection{Title: "CSAF feed (TLP:" + string(*f.TLPLabel) + ")", HRef: string(*f.URL), Categories: cats})
	}
	return d.putJSON(WellKnown+"service.json", &csaf.ROLIEServiceDocument{Service: csaf.ROLIEService{
		Workspace: []csaf.ROLIEServiceWorkspace{{Title: "CSAF feeds", Collection: cols}}}}, now)
}

// addMetadata writes provider-metadata.json (and the public key) and
// checks it against CSAF's provider metadata schema.
func (d *Directory) addMetadata(base string, o Options, dists []csaf.Distribution, signer *openpgp.Entity, now time.Time) error {
	cat := csaf.Category(o.Publisher.Category)
	name, ns := o.Publisher.Name, o.Publisher.Namespace
	role := csaf.MetadataRole(o.Role)
	ver := csaf.MetadataVersion20
	canonical := csaf.ProviderURL(d.pmdURL)
	ts := csaf.TimeStamp(now)
	list, mirror := o.ListOnAggregators, o.MirrorOnAggregators
	pmd := &csaf.ProviderMetadata{
		CanonicalURL: &canonical, Distributions: dists, LastUpdated: &ts,
		ListOnCSAFAggregators: &list, MirrorOnCSAFAggregators: &mirror, MetadataVersion: &ver, Role: &role,
		Publisher: &csaf.Publisher{Category: &cat, Name: &name, Namespace: &ns,
			ContactDetails: o.Publisher.ContactDetails, IssuingAuthority: o.Publisher.IssuingAuthority},
	}
	if signer != nil {
		var pub bytes.Buffer
		if err := armorPublicKey(&pub, signer); err != nil {
			return err
		}
		keyPath := WellKnown + "openpgp/" + d.Fingerprint + ".asc"
		d.put(keyPath, pub.Bytes(), "application/pgp-keys", now)
		pmd.SetPGP(d.Fingerprint, base+keyPath)
	}
	if err := pmd.Validate(); err != nil {
		return fmt.Errorf("provider metadata: %w", err)
	}
	// public_openpgp_keys is written even when empty: a reader then
	// learns that nothing is signed, rather than that the field is
	// missing (csaf_checker warns about a missing one).
	keys := pmd.PGPKeys
	if keys == nil {
		keys = []csaf.PGPKey{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		*csaf.ProviderMetadata
		PGPKeys []csaf.PGPKey `json:"public_openpgp_keys"`
	}{pmd, keys}); err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		return err
	}
	problems, err := csaf.ValidateProviderMetadata(v)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("provider metadata is not valid: %s", strings.Join(problems, "; "))
	}
	d.put(WellKnown+"provider-metadata.json", b.Bytes(), "application/json", now)
	return nil
}

// securityTxt is an RFC 9116 file with CSAF's field (requirement 8).
func securityTxt(pmdURL string, contacts []string, now time.Time) []byte {
	var b strings.Builder
	b.WriteString("# Written by routerwatch (advisories publish). CSAF points to the CSAF 2.0 provider metadata.\n")
	for _, c := range contacts {
		fmt.Fprintf(&b, "Contact: %s\n", c)
	}
	if len(contacts) == 0 {
		b.WriteString("# RFC 9116 wants a Contact: line: give one (--security-contact), or put the CSAF line into your own security.txt.\n")
	}
	fmt.Fprintf(&b, "Expires: %s\n", now.Add(securityTxtLifetime).Format(time.RFC3339))
	fmt.Fprintf(&b, "CSAF: %s\n", pmdURL)
	return []byte(b.String())
}

// ProviderMetadataURL is where the directory's metadata is served.
func (d *Directory) ProviderMetadataURL() string { return d.pmdURL }

// SecurityTxt is the generated security.txt.
func (d *Directory) SecurityTxt() []byte { return slices.Clone(d.security) }

// Paths lists every file's URL path, sorted.
func (d *Directory) Paths() []string {
	out := make([]string, 0, len(d.files))
	for p := range d.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// File returns one file's content by URL path.
func (d *Directory) File(p string) ([]byte, bool) {
	f, ok := d.files[p]
	if !ok {
		return nil, false
	}
	return f.data, true
}
