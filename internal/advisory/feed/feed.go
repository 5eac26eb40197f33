// SPDX-License-Identifier: Apache-2.0

// Package feed downloads advisory data: the CISA KEV catalog, single CSAF
// documents, ROLIE feeds and CSAF providers (provider-metadata.json with
// ROLIE or directory distributions). It backs `advisories update`, the only
// routerwatch command that downloads anything.
//
// The contract: Fetch returns every document of a source checked (CSAF
// against the schema, hashes against the published .sha256/.sha512 files
// where the provider publishes them) or an error; it never returns part of
// a source. Every URL must be https (plain http only on loopback, for
// mirrors and tests), and so must every redirect hop, whatever client the
// caller passes; a redirect never goes from https down to http. Sizes,
// document counts and time are bounded. Credentials in a source URL
// (user:password@, token query parameters) are used to download but never
// appear in a Result, an error or a stored document's Source: those carry
// config.RedactURL's form. OpenPGP signatures (.asc) are not verified.
//
// NewHTTPClient builds the client `advisories update` uses; feed is the
// only advisory package that reaches the network.
package feed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"

	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/config"
)

// Limits. The KEV catalog is about 1.3 MB; CISA's CSAF provider lists a
// few thousand documents.
const (
	DefaultMaxBytes     = 64 << 20
	DefaultMaxDocuments = 5000
	// maxFeedBytes bounds a ROLIE feed or provider metadata file.
	maxFeedBytes = 32 << 20
)

// ErrHashMismatch reports a document whose content does not match the hash
// its provider published.
var ErrHashMismatch = errors.New("feed: hash mismatch")

// Client downloads feeds.
type Client struct {
	// HTTP does the requests; it must not be nil.
	HTTP *http.Client
	// MaxBytes bounds one document; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxDocuments bounds the documents of one source; 0 means
	// DefaultMaxDocuments.
	MaxDocuments int
	// Progress, when set, is told how many documents of a source are done.
	Progress func(source string, done, total int)
}

// Result is one fetched source.
type Result struct {
	Source     string
	Kind       string // "kev", "csaf", "rolie", "provider"
	Documents  []datastore.Parsed
	Verified   int // documents whose hash was checked
	Unverified int // documents without a published hash
}

type docRef struct {
	url     string
	hashURL string // "" when the provider publishes none (then .sha256/.sha512 are tried)
}

// Fetch downloads and checks one source. src may carry credentials;
// Result.Source, every document's Item.Source and every error name it by
// config.RedactURL(src).
func (c *Client) Fetch(ctx context.Context, src string) (Result, error) {
	shown := config.RedactURL(src)
	res := Result{Source: shown}
	body, err := c.get(ctx, src, maxFeedBytes)
	if err != nil {
		return res, err
	}
	var probe struct {
		CatalogVersion string          `json:"catalogVersion"`
		Document       json.RawMessage `json:"document"`
		Feed           json.RawMessage `json:"feed"`
		CanonicalURL   string          `json:"canonical_url"`
		Distributions  json.RawMessage `json:"distributions"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return res, fmt.Errorf("feed %s: not JSON: %w", shown, err)
	}
	var refs []docRef
	switch {
	case probe.CatalogVersion != "":
		p, err := datastore.Parse(body, shown)
		if err != nil {
			return res, fmt.Errorf("feed %s: %w", shown, err)
		}
		res.Kind, res.Documents, res.Unverified = "kev", []datastore.Parsed{p}, 1
		return res, nil
	case probe.Document != nil:
		p, err := datastore.Parse(body, shown)
		if err != nil {
			return res, fmt.Errorf("feed %s: %w", shown, err)
		}
		res.Kind = "csaf"
		if err := c.verify(ctx, docRef{url: src}, body, &res); err != nil {
			return res, err
		}
		res.Documents = []datastore.Parsed{p}
		return res, nil
	case probe.Feed != nil:
		res.Kind = "rolie"
		refs, err = rolieRefs(src, body)
	case probe.CanonicalURL != "" && probe.Distributions != nil:
		res.Kind = "provider"
		refs, err = c.providerRefs(ctx, src, body)
	default:
		return res, fmt.Errorf("feed %s: not a KEV catalog, CSAF document, ROLIE feed or CSAF provider-metadata.json", shown)
	}
	if err != nil {
		return res, err
	}
	max := c.MaxDocuments
	if max <= 0 {
		max = DefaultMaxDocuments
	}
	if len(refs) > max {
		return res, fmt.Errorf("feed %s lists %d documents, above the limit of %d (--max-documents)", shown, len(refs), max)
	}
	for i, r := range refs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		b, err := c.get(ctx, r.url, c.maxBytes())
		if err != nil {
			return res, err
		}
		if err := c.verify(ctx, r, b, &res); err != nil {
			return res, err
		}
		p, err := datastore.Parse(b, shown)
		if err != nil {
			return res, fmt.Errorf("feed %s: %s: %w", shown, config.RedactURL(r.url), err)
		}
		res.Documents = append(res.Documents, p)
		if c.Progress != nil {
			c.Progress(shown, i+1, len(refs))
		}
	}
	return res, nil
}

func (c *Client) maxBytes() int64 {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultMaxBytes
}

// get fetches u with a size bound; only https (or loopback http) URLs.
func (c *Client) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	b, status, err := c.getStatus(ctx, u, limit)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("feed: GET %s: HTTP %d", config.RedactURL(u), status)
	}
	return b, nil
}

func (c *Client) getStatus(ctx context.Context, u string, limit int64) ([]byte, int, error) {
	shown := config.RedactURL(u)
	if err := config.ValidateSourceURL(u); err != nil {
		return nil, 0, fmt.Errorf("feed: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("feed: GET %s: %w", shown, urlCause(err))
	}
	req.Header.Set("User-Agent", "routerwatch-advisories-update")
	// The caller's client, with the redirect rule added: whoever built
	// it, no hop may go where the first URL could not.
	hc := *c.HTTP
	hc.CheckRedirect = checkRedirect(c.HTTP.CheckRedirect)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("feed: GET %s: %w", shown, urlCause(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("feed: GET %s: %w", shown, err)
	}
	if int64(len(b)) > limit {
		return nil, 0, fmt.Errorf("feed: GET %s: more than %d bytes", shown, limit)
	}
	return b, resp.StatusCode, nil
}

// urlCause strips the *url.Error around err: it names the URL with at
// most the password masked (a token in the user name or the query shows),
// and callers name the URL themselves, redacted.
func urlCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxRedirects bounds a redirect chain, as net/http's default does.
const maxRedirects = 10

// ErrRedirectRefused reports a redirect to a URL a source could not name
// itself (plain http off loopback, another scheme) or from https down to
// http.
var ErrRedirectRefused = errors.New("redirect refused")

// checkRedirect applies the source-URL rule to every hop, then the
// caller's own rule, if any.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		from := via[len(via)-1].URL
		hop := fmt.Sprintf("%s redirects to %s", config.RedactURL(from.String()), config.RedactURL(req.URL.String()))
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: %s: more than %d redirects", ErrRedirectRefused, hop, maxRedirects)
		}
		if err := config.ValidateSourceURL(req.URL.String()); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrRedirectRefused, hop, err)
		}
		if from.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: %s: from https down to %s", ErrRedirectRefused, hop, req.URL.Scheme)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// NewHTTPClient returns the client of `advisories update`: the system's
// roots plus the PEM certificates in extraCAs (a private mirror's CA; may
// be empty), TLS 1.2 or later, bounded time per request, proxies from the
// environment (a normal download, unlike probes, which never use one),
// and the redirect rule of the package doc.
func NewHTTPClient(extraCAs []byte) (*http.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(extraCAs) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(extraCAs) {
			return nil, ErrNoCertificate
		}
		tlsCfg.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		TLSClientConfig:        tlsCfg,
		TLSHandshakeTimeout:    15 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute, CheckRedirect: checkRedirect(nil)}, nil
}

// ErrNoCertificate reports extra CAs that hold no PEM certificate.
var ErrNoCertificate = errors.New("no PEM certificate")

// verify checks b against the hash the provider publishes for it: the
// hash link of a ROLIE entry, else <url>.sha512 or <url>.sha256 (CSAF 2.0
// §7.1.18). A document with no hash file counts as unverified.
func (c *Client) verify(ctx context.Context, r docRef, b []byte, res *Result) error {
	candidates := []string{r.hashURL}
	if r.hashURL == "" {
		candidates = []string{r.url + ".sha512", r.url + ".sha256"}
	}
	for _, hu := range candidates {
		hb, status, err := c.getStatus(ctx, hu, 4096)
		if err != nil {
			return err
		}
		if status == http.StatusNotFound && r.hashURL == "" {
			continue
		}
		if status != http.StatusOK {
			return fmt.Errorf("feed: GET %s: HTTP %d", config.RedactURL(hu), status)
		}
		want := strings.ToLower(strings.Fields(string(hb) + " ")[0])
		var got string
		switch {
		case strings.HasSuffix(hu, ".sha512"):
			s := sha512.Sum512(b)
			got = hex.EncodeToString(s[:])
		case strings.HasSuffix(hu, ".sha256"):
			s := sha256.Sum256(b)
			got = hex.EncodeToString(s[:])
		default:
			return fmt.Errorf("feed: %s: unknown hash type", config.RedactURL(hu))
		}
		if got != want {
			return fmt.Errorf("%w: %s: published %s…, content has %s…", ErrHashMismatch, config.RedactURL(r.url), short(want), short(got))
		}
		res.Verified++
		return nil
	}
	res.Unverified++
	return nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

// rolieRefs lists the documents of a ROLIE feed (CSAF 2.0 §7.1.20).
func rolieRefs(base string, body []byte) ([]docRef, error) {
	var f struct {
		Feed struct {
			Entry []struct {
				Link []struct {
					Rel  string `json:"rel"`
					Href string `json:"href"`
				} `json:"link"`
				Content struct {
					Src string `json:"src"`
				} `json:"content"`
			} `json:"entry"`
		} `json:"feed"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("feed %s: ROLIE: %w", config.RedactURL(base), err)
	}
	var out []docRef
	for i, e := range f.Feed.Entry {
		var r docRef
		src := e.Content.Src
		for _, l := range e.Link {
			switch l.Rel {
			case "self":
				if src == "" {
					src = l.Href
				}
			case "hash":
				if r.hashURL == "" || strings.HasSuffix(l.Href, ".sha512") {
					r.hashURL = l.Href
				}
			}
		}
		if src == "" {
			return nil, fmt.Errorf("feed %s: entry %d has no document URL", config.RedactURL(base), i)
		}
		var err error
		if r.url, err = resolve(base, src); err != nil {
			return nil, err
		}
		if r.hashURL != "" {
			if r.hashURL, err = resolve(base, r.hashURL); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// providerRefs reads provider-metadata.json (CSAF 2.0 §7.1.7), validated
// against its schema, and lists the documents of every distribution.
func (c *Client) providerRefs(ctx context.Context, src string, body []byte) ([]docRef, error) {
	var generic any
	if err := json.Unmarshal(body, &generic); err != nil {
		return nil, err
	}
	problems, err := csaf.ValidateProviderMetadata(generic)
	if err != nil {
		return nil, fmt.Errorf("feed %s: %w", config.RedactURL(src), err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("feed %s: not valid provider metadata: %s", config.RedactURL(src), strings.Join(problems, "; "))
	}
	var pm struct {
		Distributions []struct {
			DirectoryURL string `json:"directory_url"`
			Rolie        *struct {
				Feeds []struct {
					URL string `json:"url"`
				} `json:"feeds"`
			} `json:"rolie"`
		} `json:"distributions"`
	}
	if err := json.Unmarshal(body, &pm); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []docRef
	add := func(rs []docRef) {
		for _, r := range rs {
			if !seen[r.url] {
				seen[r.url] = true
				out = append(out, r)
			}
		}
	}
	for _, d := range pm.Distributions {
		if d.Rolie != nil {
			for _, f := range d.Rolie.Feeds {
				u, err := resolve(src, f.URL)
				if err != nil {
					return nil, err
				}
				fb, err := c.get(ctx, u, maxFeedBytes)
				if err != nil {
					return nil, err
				}
				rs, err := rolieRefs(u, fb)
				if err != nil {
					return nil, err
				}
				add(rs)
			}
		}
		if d.DirectoryURL != "" {
			dir := strings.TrimSuffix(d.DirectoryURL, "/") + "/"
			u, err := resolve(src, dir+"index.txt")
			if err != nil {
				return nil, err
			}
			ib, err := c.get(ctx, u, maxFeedBytes)
			if err != nil {
				return nil, err
			}
			var rs []docRef
			sc := bufio.NewScanner(bytes.NewReader(ib))
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if line == "" || !strings.HasSuffix(line, ".json") {
					continue
				}
				du, err := resolve(u, line)
				if err != nil {
					return nil, err
				}
				rs = append(rs, docRef{url: du})
			}
			add(rs)
		}
	}
	return out, nil
}

func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("feed: %s: %w", config.RedactURL(base), urlCause(err))
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("feed: %s: %w", config.RedactURL(ref), urlCause(err))
	}
	return b.ResolveReference(r).String(), nil
}
