// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// The data files are embedded so that a run needs nothing on disk; each
// entry names its source. indicators.json can be replaced or extended at
// run time (LoadIndicators, the dns command's --indicators flag).
//
//go:embed data/canaries.json data/indicators.json data/publicdns.json
var dataFS embed.FS

// Canary kinds.
const (
	KindCampaignTarget   = "campaign_target"
	KindControl          = "control"
	KindIdentityProvider = "identity_provider"
	KindUser             = "user"
)

// Canary is a name whose answers are compared with the trusted resolvers.
type Canary struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Evidence is the source tag as in the threat brief ("[SECONDARY]
	// two sources"); why the name is believed targeted.
	Evidence string   `json:"evidence"`
	Sources  []string `json:"sources"`
	Why      string   `json:"why"`
}

// NamedReason is a name used for one purpose, with why it fits.
type NamedReason struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// CanaryData is the embedded canary list.
type CanaryData struct {
	SchemaVersion int           `json:"schema_version"`
	Updated       string        `json:"updated"`
	Note          string        `json:"note"`
	Canaries      []Canary      `json:"canaries"`
	DNSSECNames   []NamedReason `json:"dnssec_names"`
	NXParent      NamedReason   `json:"nxdomain_parent"`
}

// Indicator is one published address of the campaign's infrastructure.
type Indicator struct {
	Address     netip.Addr
	Role        string // "aitm", "resolver" or "unknown"
	Description string
	List        string // "lumen-frostarmada", "candidate-inventory-182", ...
	Confidence  finding.Confidence
	SourceURL   string
	Source      string
	// FirstSeen and LastSeen are zero when the source gives no dates.
	FirstSeen, LastSeen time.Time
}

// Indicators is a set of exact addresses (never ranges: shared hosting
// space is rented by unrelated customers too).
type Indicators struct {
	Updated string
	byAddr  map[netip.Addr]Indicator
}

// Len returns the number of addresses.
func (ix *Indicators) Len() int { return len(ix.byAddr) }

// Lookup returns the indicator for a, if listed.
func (ix *Indicators) Lookup(a netip.Addr) (Indicator, bool) {
	if ix == nil {
		return Indicator{}, false
	}
	in, ok := ix.byAddr[a.Unmap().WithZone("")]
	return in, ok
}

// Merge returns a set holding ix and other; other's entries win.
func (ix *Indicators) Merge(other *Indicators) *Indicators {
	out := &Indicators{Updated: ix.Updated, byAddr: make(map[netip.Addr]Indicator, len(ix.byAddr)+len(other.byAddr))}
	for a, in := range ix.byAddr {
		out.byAddr[a] = in
	}
	for a, in := range other.byAddr {
		out.byAddr[a] = in
	}
	if other.Updated > out.Updated {
		out.Updated = other.Updated
	}
	return out
}

// PublicResolver is a well-known public resolver address.
type PublicResolver struct {
	Operator  string
	SourceURL string
}

// PublicResolvers maps addresses of well-known public resolvers.
type PublicResolvers struct {
	byAddr map[netip.Addr]PublicResolver
}

// Lookup returns the operator of a, if a is a well-known public resolver.
func (p *PublicResolvers) Lookup(a netip.Addr) (PublicResolver, bool) {
	if p == nil {
		return PublicResolver{}, false
	}
	r, ok := p.byAddr[a.Unmap().WithZone("")]
	return r, ok
}

// MaxDataFileSize bounds an indicator, canary or public-resolver file:
// the embedded indicator list is about 100 KB; a list a hundred times
// longer still fits.
const MaxDataFileSize = 16 << 20

// strictDecode decodes one data file with strictjson's contract (one
// JSON value, no unknown field, no trailing data, bounded).
func strictDecode(r io.Reader, v any) error { return strictjson.Decode(r, MaxDataFileSize, v) }

var (
	loadCanaries   = sync.OnceValues(func() (CanaryData, error) { return parseCanaries(embedded("data/canaries.json")) })
	loadIndicators = sync.OnceValues(func() (*Indicators, error) {
		return LoadIndicators(bytes.NewReader(embedded("data/indicators.json")))
	})
	loadPublic = sync.OnceValues(func() (*PublicResolvers, error) { return parsePublic(embedded("data/publicdns.json")) })
)

// embedded reads an embedded file; the names are constants above, so a
// failure is a build mistake that the data tests catch (the empty result
// fails to parse, with an error).
func embedded(name string) []byte {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return nil
	}
	return b
}

// DefaultCanaries returns the embedded canary list.
func DefaultCanaries() (CanaryData, error) { return loadCanaries() }

// DefaultIndicators returns the embedded indicator set.
func DefaultIndicators() (*Indicators, error) { return loadIndicators() }

// DefaultPublicResolvers returns the embedded table of public resolvers.
func DefaultPublicResolvers() (*PublicResolvers, error) { return loadPublic() }

func parseCanaries(b []byte) (CanaryData, error) {
	var d CanaryData
	if err := strictDecode(bytes.NewReader(b), &d); err != nil {
		return d, fmt.Errorf("dnshijack: canaries: %w", err)
	}
	if d.SchemaVersion != 1 {
		return d, fmt.Errorf("dnshijack: canaries: schema_version %d, want 1", d.SchemaVersion)
	}
	seen := map[string]bool{}
	for i, c := range d.Canaries {
		name, err := CanonicalName(c.Name)
		if err != nil {
			return d, fmt.Errorf("dnshijack: canaries[%d]: %w", i, err)
		}
		switch c.Kind {
		case KindCampaignTarget, KindControl, KindIdentityProvider:
		default:
			return d, fmt.Errorf("dnshijack: canaries[%d] %s: unknown kind %q", i, c.Name, c.Kind)
		}
		if c.Why == "" || c.Evidence == "" {
			return d, fmt.Errorf("dnshijack: canaries[%d] %s: why and evidence are required", i, c.Name)
		}
		if seen[name] {
			return d, fmt.Errorf("dnshijack: canaries[%d]: %s listed twice", i, c.Name)
		}
		seen[name] = true
	}
	for _, n := range append(d.DNSSECNames, d.NXParent) {
		if _, err := CanonicalName(n.Name); err != nil || n.Why == "" {
			return d, fmt.Errorf("dnshijack: canaries: name %q needs a valid name and a why", n.Name)
		}
	}
	return d, nil
}

// UserCanary returns a canary for a name the user asked to watch.
func UserCanary(name string) (Canary, error) {
	n, err := CanonicalName(name)
	if err != nil {
		return Canary{}, err
	}
	return Canary{Name: strings.TrimSuffix(n, "."), Kind: KindUser, Evidence: "named by the user", Why: "named with --canary"}, nil
}

// CanonicalName lowercases name, adds the trailing dot and checks it is a
// domain name with at least two labels (a bare label would be completed
// by search domains on some resolvers).
func CanonicalName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	labels, ok := dns.IsDomainName(n)
	if !ok || n == "" || n == "." || strings.ContainsAny(n, " \t*") {
		return "", fmt.Errorf("dnshijack: %q is not a domain name", name)
	}
	if labels < 2 {
		return "", fmt.Errorf("dnshijack: %q needs at least two labels (like login.example.org)", name)
	}
	return dns.Fqdn(n), nil
}

type indicatorsFile struct {
	SchemaVersion int    `json:"schema_version"`
	Updated       string `json:"updated"`
	Note          string `json:"note"`
	Entries       []struct {
		Address     string `json:"address"`
		Role        string `json:"role"`
		Description string `json:"description"`
		List        string `json:"list"`
		Confidence  string `json:"confidence"`
		SourceURL   string `json:"source_url"`
		Source      string `json:"source"`
		FirstSeen   string `json:"first_seen"`
		LastSeen    string `json:"last_seen"`
	} `json:"entries"`
}

// LoadIndicators reads an indicator file in the format of the embedded
// data/indicators.json. Every entry must be one exact address (a prefix
// or range is refused), name a source, and carry a known role and
// confidence; dates are YYYY-MM-DD or empty.
func LoadIndicators(r io.Reader) (*Indicators, error) {
	var f indicatorsFile
	if err := strictDecode(r, &f); err != nil {
		return nil, fmt.Errorf("dnshijack: indicators: %w", err)
	}
	if f.SchemaVersion != 1 {
		return nil, fmt.Errorf("dnshijack: indicators: schema_version %d, want 1", f.SchemaVersion)
	}
	ix := &Indicators{Updated: f.Updated, byAddr: make(map[netip.Addr]Indicator, len(f.Entries))}
	for i, e := range f.Entries {
		errf := func(format string, args ...any) error {
			return fmt.Errorf("dnshijack: indicators: entry %d (%s): %s", i, e.Address, fmt.Sprintf(format, args...))
		}
		a, err := netip.ParseAddr(e.Address)
		if err != nil || a.Zone() != "" {
			return nil, errf("not one exact IP address (ranges and prefixes are not accepted)")
		}
		a = a.Unmap()
		if _, dup := ix.byAddr[a]; dup {
			return nil, errf("listed twice")
		}
		switch e.Role {
		case "aitm", "resolver", "unknown":
		default:
			return nil, errf("role %q is not aitm, resolver or unknown", e.Role)
		}
		conf, err := parseConfidence(e.Confidence)
		if err != nil {
			return nil, errf("%v", err)
		}
		if e.SourceURL == "" && e.Source == "" || e.List == "" {
			return nil, errf("list and a source (source_url or source) are required")
		}
		in := Indicator{Address: a, Role: e.Role, Description: e.Description, List: e.List, Confidence: conf, SourceURL: e.SourceURL, Source: e.Source}
		if in.FirstSeen, err = parseDate(e.FirstSeen); err != nil {
			return nil, errf("first_seen: %v", err)
		}
		if in.LastSeen, err = parseDate(e.LastSeen); err != nil {
			return nil, errf("last_seen: %v", err)
		}
		if !in.FirstSeen.IsZero() && !in.LastSeen.IsZero() && in.LastSeen.Before(in.FirstSeen) {
			return nil, errf("last_seen before first_seen")
		}
		ix.byAddr[a] = in
	}
	return ix, nil
}

func parseConfidence(s string) (finding.Confidence, error) {
	switch s {
	case "low":
		return finding.ConfidenceLow, nil
	case "medium":
		return finding.ConfidenceMedium, nil
	case "high":
		return finding.ConfidenceHigh, nil
	}
	return 0, fmt.Errorf("confidence %q is not low, medium or high", s)
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

type publicFile struct {
	SchemaVersion int    `json:"schema_version"`
	Updated       string `json:"updated"`
	Note          string `json:"note"`
	Operators     []struct {
		Operator  string   `json:"operator"`
		SourceURL string   `json:"source_url"`
		Addresses []string `json:"addresses"`
	} `json:"operators"`
}

func parsePublic(b []byte) (*PublicResolvers, error) {
	var f publicFile
	if err := strictDecode(bytes.NewReader(b), &f); err != nil {
		return nil, fmt.Errorf("dnshijack: public resolvers: %w", err)
	}
	p := &PublicResolvers{byAddr: map[netip.Addr]PublicResolver{}}
	for _, op := range f.Operators {
		if op.Operator == "" || op.SourceURL == "" {
			return nil, errors.New("dnshijack: public resolvers: operator and source_url are required")
		}
		for _, s := range op.Addresses {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("dnshijack: public resolvers: %s: %w", op.Operator, err)
			}
			if _, dup := p.byAddr[a]; dup {
				return nil, fmt.Errorf("dnshijack: public resolvers: %s listed twice", a)
			}
			p.byAddr[a] = PublicResolver{Operator: op.Operator, SourceURL: op.SourceURL}
		}
	}
	return p, nil
}
