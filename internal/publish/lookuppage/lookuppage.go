// SPDX-License-Identifier: Apache-2.0

// Package lookuppage is the public "is my model affected?" page and API
// for a vendor, CERT or ISP to run: `GET /lookup` (an HTML form and its
// answer, no JavaScript) and `GET /api/v1/lookup?model=…&hw=…&region=…&fw=…&vendor=…`
// (the JSON of `routerwatch lookup --format json`, byte for byte).
//
// The contract: both answer through internal/lookup, the code the CLI
// uses, so a verdict is the same wherever it is asked. Neither needs a
// login: the Handler is meant to be mounted outside the server's
// authentication. It is bounded everywhere a stranger reaches: the query
// (MaxQueryLen bytes, known parameters only, each once, each at most
// lookup.MaxFieldLen), requests per client (a token bucket per address in
// a table of at most Options.MaxClients), and methods (GET and HEAD). Bad
// input is a 400 whose message is the CLI's sentence with the parameter's
// name in place of the flag. Answers carry Cache-Control and an ETag, and
// say which advisory data (built-in version, local store, KEV catalog)
// gave them.
package lookuppage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/lookup"
)

// Paths the Handler answers.
const (
	PagePath = "/lookup"
	APIPath  = "/api/v1/lookup"
)

// MaxQueryLen bounds a request's raw query string: five fields of at most
// lookup.MaxFieldLen each, percent-encoded (up to three bytes per byte),
// with their names, fit; anything longer is not a question.
const MaxQueryLen = 4096

// Defaults of Options.
const (
	// DefaultRate and DefaultBurst let a person look up a few models in a
	// row and a script ask about one a second; a crawler walking every
	// model gets 429s.
	DefaultRate  = rate.Limit(1)
	DefaultBurst = 20
	// DefaultMaxClients bounds the limiter's table: at about 200 bytes per
	// client, 2 MB.
	DefaultMaxClients = 10000
	// DefaultMaxAge is how long a client or a cache may reuse an answer.
	// The data changes when the operator imports or updates advisories,
	// a few times a day at most.
	DefaultMaxAge = 5 * time.Minute
)

// Options configure a Handler.
type Options struct {
	// Data returns the advisory index to answer from and a description
	// of the data behind it. It is called once per answered request, so
	// the caller decides when new data takes over (it should cache: the
	// Handler does not). Required.
	Data func() (*advisory.Index, datastore.Info, error)
	// Rate and Burst are the token bucket per client (requests per
	// second, and how many may come at once); DefaultRate and
	// DefaultBurst when zero.
	Rate  rate.Limit
	Burst int
	// MaxClients bounds how many clients the limiter remembers;
	// DefaultMaxClients when zero.
	MaxClients int
	// ClientKey names the client a request counts against;
	// RemoteAddrKey when nil.
	ClientKey func(*http.Request) string
	// MaxAge is the Cache-Control max-age of answers; DefaultMaxAge when
	// zero.
	MaxAge time.Duration
	// Now is the clock of the limiter; time.Now when nil.
	Now func() time.Time
	// Logger receives data errors (the client only learns that the data
	// is unavailable); slog.Default() when nil.
	Logger *slog.Logger
}

// Handler serves PagePath and APIPath. Build it with New.
type Handler struct {
	o     Options
	limit *clientLimiter
}

// New checks o and fills its defaults.
func New(o Options) (*Handler, error) {
	if o.Data == nil {
		return nil, errors.New("lookuppage: Options.Data is required")
	}
	if o.Rate < 0 || o.Burst < 0 || o.MaxClients < 0 || o.MaxAge < 0 {
		return nil, errors.New("lookuppage: Rate, Burst, MaxClients and MaxAge must not be negative")
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst == 0 {
		o.Burst = DefaultBurst
	}
	if o.MaxClients == 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.ClientKey == nil {
		o.ClientKey = RemoteAddrKey
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{o: o, limit: newClientLimiter(o.Rate, o.Burst, o.MaxClients)}, nil
}

// apiStyle words lookup errors for the query string.
var apiStyle = lookup.Style{Example: "model=TL-WR841N&hw=10"}

// params are the query parameters, in the order the form shows them.
var params = []lookup.Field{lookup.FieldModel, lookup.FieldVendor, lookup.FieldHW, lookup.FieldRegion, lookup.FieldFirmware}

// problem is a refused request, for both front ends.
type problem struct {
	Status      int      `json:"-"`
	Message     string   `json:"error"`
	Field       string   `json:"field,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
	retryAfter  time.Duration
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := false
	switch r.URL.Path {
	case APIPath:
		api = true
	case PagePath:
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.refuse(w, api, nil, &problem{Status: http.StatusMethodNotAllowed, Message: r.Method + " is not allowed; use GET"})
		return
	}
	if ok, wait := h.limit.allow(h.o.ClientKey(r), h.o.Now()); !ok {
		h.refuse(w, api, nil, &problem{Status: http.StatusTooManyRequests, retryAfter: wait,
			Message: fmt.Sprintf("too many lookups from your address; try again in %d s", retrySeconds(wait))})
		return
	}
	q, given, p := readQuery(r.URL.RawQuery)
	if p != nil {
		h.refuse(w, api, given, p)
		return
	}
	if !api && len(given) == 0 {
		h.page(w, http.StatusOK, pageData{Form: given})
		return
	}
	ix, info, err := h.o.Data()
	if err != nil {
		h.o.Logger.Error("lookup page: advisory data", "err", err)
		h.refuse(w, api, given, &problem{Status: http.StatusServiceUnavailable, Message: "the advisory data is unavailable; try again later"})
		return
	}
	res, err := lookup.Ask(ix, info, q)
	if err != nil {
		var le *lookup.Error
		if !errors.As(err, &le) {
			le = &lookup.Error{}
		}
		h.refuse(w, api, given, &problem{Status: http.StatusBadRequest, Message: le.Text(apiStyle),
			Field: string(le.Field), Suggestions: le.Suggestions})
		return
	}
	var body bytes.Buffer
	if api {
		if err := res.WriteJSON(&body); err != nil {
			h.refuse(w, api, given, &problem{Status: http.StatusInternalServerError, Message: "could not render the answer"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
	} else {
		if err := pageTemplate.Execute(&body, pageData{Form: given, Result: &res, Info: info}); err != nil {
			h.refuse(w, api, given, &problem{Status: http.StatusInternalServerError, Message: "could not render the answer"})
			return
		}
		setPageHeaders(w)
	}
	h.answer(w, r, body.Bytes())
}

// answer writes a successful response with its caching headers, or 304
// when the client holds it already.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(h.o.MaxAge/time.Second)))
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// etagMatches reads an If-None-Match list (weak tags compare equal, as
// RFC 9110 says for If-None-Match).
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// refuse writes a problem: JSON for the API, the form with the message
// for the page. Refusals are not cached.
func (h *Handler) refuse(w http.ResponseWriter, api bool, given url.Values, p *problem) {
	w.Header().Set("Cache-Control", "no-store")
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(p.retryAfter)))
	}
	if api {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(p.Status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(p)
		return
	}
	h.page(w, p.Status, pageData{Form: given, Problem: p})
}

func (h *Handler) page(w http.ResponseWriter, status int, d pageData) {
	var body bytes.Buffer
	if err := pageTemplate.Execute(&body, d); err != nil {
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}

// setPageHeaders: the page runs no script and embeds nothing; it only
// submits its own form.
func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// readQuery reads the raw query into a lookup.Query: bounded in size,
// known parameters only, each at most once. given holds what was sent, for
// the form.
func readQuery(raw string) (lookup.Query, url.Values, *problem) {
	if len(raw) > MaxQueryLen {
		return lookup.Query{}, nil, &problem{Status: http.StatusBadRequest, Message: fmt.Sprintf("query: %d bytes; at most %d", len(raw), MaxQueryLen)}
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return lookup.Query{}, nil, &problem{Status: http.StatusBadRequest, Message: "query: not a valid query string (" + err.Error() + ")"}
	}
	known := map[string]bool{}
	for _, f := range params {
		known[string(f)] = true
	}
	given := url.Values{}
	for k, v := range vals {
		if !known[k] {
			names := make([]string, len(params))
			for i, f := range params {
				names[i] = string(f)
			}
			return lookup.Query{}, nil, &problem{Status: http.StatusBadRequest, Field: clip(k),
				Message: fmt.Sprintf("unknown parameter %q (known: %s)", clip(k), strings.Join(names, ", "))}
		}
		if len(v) > 1 {
			return lookup.Query{}, nil, &problem{Status: http.StatusBadRequest, Field: k, Message: fmt.Sprintf("%s: given %d times; give it once", k, len(v))}
		}
		given[k] = v
	}
	// An empty field is as good as none: the form sends every field.
	for k, v := range given {
		if v[0] == "" {
			delete(given, k)
		}
	}
	return lookup.Query{
		Model: given.Get(string(lookup.FieldModel)), Vendor: given.Get(string(lookup.FieldVendor)),
		HW: given.Get(string(lookup.FieldHW)), Region: given.Get(string(lookup.FieldRegion)),
		Firmware: given.Get(string(lookup.FieldFirmware)),
	}, given, nil
}

// clip shortens an unknown parameter's name for the message.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

//go:embed page.html
var pageFS embed.FS

type pageData struct {
	Form    url.Values
	Problem *problem
	Result  *lookup.Result
	Info    datastore.Info
}

var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"upper":    strings.ToUpper,
	"words":    func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"inc":      func(i int) int { return i + 1 },
	"join":     strings.Join,
	"reason":   reason,
	"dataLine": dataLine,
	"suggest":  suggestURL,
	"apiURL":   func(v url.Values) string { return APIPath + "?" + v.Encode() },
}).ParseFS(pageFS, "page.html"))

// reason is a match's reason in words, naming the field that would decide
// it when the answer waits on one.
func reason(m lookup.Match) string {
	if f := lookup.DecidingField(m.Reason); f != "" {
		return m.Why + ": give the " + map[lookup.Field]string{
			lookup.FieldFirmware: "firmware build", lookup.FieldHW: "hardware version", lookup.FieldRegion: "market variant"}[f]
	}
	return m.Why
}

// dataLine says which data answered, as the CLI's "Data:" line does.
func dataLine(info datastore.Info) string {
	s := fmt.Sprintf("built-in %s (%d documents)", info.BuiltinVersion, info.BuiltinDocs)
	if info.StoreDocs > 0 {
		s += fmt.Sprintf("; local store %d documents, updated %s", info.StoreDocs, info.StoreUpdated)
	}
	if info.KEVVersion != "" {
		s += fmt.Sprintf("; CISA KEV catalog %s (%d entries)", info.KEVVersion, info.KEVEntries)
	} else {
		s += "; no KEV catalog imported"
	}
	if info.Fallback != "" {
		s += "; local store unusable, built-in data only"
	}
	return s
}

// suggestURL is the page's URL for the same question about another model.
func suggestURL(form url.Values, model string) string {
	v := url.Values{}
	for k, vs := range form {
		v[k] = vs
	}
	v.Set(string(lookup.FieldModel), model)
	return PagePath + "?" + v.Encode()
}
