// SPDX-License-Identifier: Apache-2.0

// Package identify names a device from what the probes saw: vendor, model,
// hardware revision, firmware build, region and operating system, each
// with a confidence and the sources it came from (probe, evidence field,
// the exact string, the rule).
//
// The contract: identification is pure (no network, no files after the
// rules and the optional recog database are loaded) and deterministic. It
// never guesses beyond its rules: a field no rule sets stays empty, which
// means unknown. Evidence that disagrees is reported in Conflicts, not
// hidden. The rules are data: the embedded rules.yaml (facts from
// brief/THREAT.md §4.3 and brief/CONFIGS.md, decoded strictly and
// validated with their own examples at load), plus the rapid7 recog
// database when the user points at one.
package identify

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// Options configures an Identifier.
type Options struct {
	// Rules are our own rules; nil means BuiltinRules.
	Rules *Rules
	// Recog, if non-nil, is consulted after our rules, at low confidence.
	Recog *recog.DB
}

// Identifier turns observations into an identity. It is safe for
// concurrent use.
type Identifier struct {
	rules *Rules
	recog *recog.DB
}

// New builds an Identifier.
func New(o Options) (*Identifier, error) {
	rs := o.Rules
	if rs == nil {
		var err error
		if rs, err = BuiltinRules(); err != nil {
			return nil, err
		}
	}
	return &Identifier{rules: rs, recog: o.Recog}, nil
}

var builtin = sync.OnceValues(func() (*Identifier, error) { return New(Options{}) })

// FromObservations identifies with the built-in rules and no recog
// database. The built-in rules are validated by this package's tests, so
// the error path is unreachable in a tested build; it yields an empty
// Result.
func FromObservations(obs []probe.Observation) Result {
	id, err := builtin()
	if err != nil {
		return Result{}
	}
	return id.FromObservations(obs)
}

// Result is an identification.
type Result struct {
	// Identity is what advisory matching takes.
	Identity advisory.Identity `json:"identity"`
	// Identified is true when at least the vendor is known.
	Identified bool `json:"identified"`
	// Confidence is the model's confidence, or low without a model.
	Confidence finding.Confidence `json:"confidence"`
	Vendor     Field              `json:"vendor,omitzero"`
	Model      Field              `json:"model,omitzero"`
	HWRev      Field              `json:"hw_rev,omitzero"`
	Firmware   Field              `json:"firmware,omitzero"`
	Region     Field              `json:"region,omitzero"`
	OS         Field              `json:"os,omitzero"`
	// ModelAlternatives are the other models a shared name lists
	// ("WR740N/WR741ND": the model is TL-WR740N, the alternative TL-WR741ND).
	ModelAlternatives []string `json:"model_alternatives,omitempty"`
	// Conflicts are values that lost to the chosen ones.
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// Field is one identity field with where it came from.
type Field struct {
	Value      string             `json:"value"`
	Confidence finding.Confidence `json:"confidence"`
	Sources    []Source           `json:"sources"`
}

// Source is one piece of evidence behind a field.
type Source struct {
	Probe      string             `json:"probe"`
	Evidence   string             `json:"evidence"` // evidence field
	Value      string             `json:"value"`    // the string seen
	Where      string             `json:"where,omitempty"`
	Rule       string             `json:"rule"` // "routerwatch:<id>" or "recog:<file>#<n> (<description>)"
	Confidence finding.Confidence `json:"confidence"`
}

// Conflict is a value that disagreed with the chosen one.
type Conflict struct {
	Field   string   `json:"field"`
	Value   string   `json:"value"`
	Sources []Source `json:"sources"`
}

// FromObservations identifies the device the observations describe.
func (id *Identifier) FromObservations(obs []probe.Observation) Result {
	var ev []probe.Evidence
	for _, o := range obs {
		if o != nil {
			ev = append(ev, o.Evidence()...)
		}
	}
	return id.FromEvidence(ev)
}

// candidate is one value some rule derived from one evidence string.
type candidate struct {
	field  string // "vendor", "model", …
	value  string
	alts   []string           // model alternatives
	conf   finding.Confidence // of the rule
	own    bool               // our rule (preferred over recog)
	vendor string             // vendor key the same match named
	src    Source
	order  int
}

// FromEvidence identifies from evidence strings directly. Besides the
// probe vocabulary, a field "recog.<key>" is looked up in that recog set
// as is: for evidence gathered outside the probes (imported scan data).
func (id *Identifier) FromEvidence(ev []probe.Evidence) Result {
	var cands []candidate
	for _, e := range ev {
		cands = id.own(cands, e, ev)
		cands = id.fromRecog(cands, e, ev)
	}
	return choose(cands)
}

// own applies our rules to one evidence string.
func (id *Identifier) own(cands []candidate, e probe.Evidence, all []probe.Evidence) []candidate {
	for _, r := range id.rules.rules {
		if r.spec.Field != e.Field {
			continue
		}
		v, ok := r.apply(e.Value)
		if !ok || (r.when != nil && !groupHas(all, e.Group, r.spec.When.Field, r.when.MatchString)) {
			continue
		}
		src := Source{Probe: e.Probe, Evidence: e.Field, Value: e.Value, Where: e.Where, Rule: "routerwatch:" + r.spec.ID, Confidence: r.conf}
		cands = addValues(cands, v, r.conf, true, src)
	}
	return cands
}

// groupHas reports whether evidence of group g has field f with a value
// ok accepts.
func groupHas(all []probe.Evidence, g, f string, ok func(string) bool) bool {
	if g == "" {
		return false
	}
	for _, e := range all {
		if e.Group == g && e.Field == f && ok(e.Value) {
			return true
		}
	}
	return false
}

// addValues appends one candidate per non-empty field of v.
func addValues(cands []candidate, v Values, conf finding.Confidence, own bool, src Source) []candidate {
	vk := ""
	if v.Vendor != "" {
		vk = advisory.VendorKey(v.Vendor)
	}
	add := func(field, value string, alts []string) {
		if value == "" {
			return
		}
		cands = append(cands, candidate{field: field, value: value, alts: alts, conf: conf, own: own, vendor: vk, src: src, order: len(cands)})
	}
	add("vendor", v.Vendor, nil)
	model, alts := splitModels(v.Model)
	add("model", model, alts)
	add("hw_rev", v.HWRev, nil)
	add("firmware", v.Firmware, nil)
	add("region", v.Region, nil)
	add("os", v.OS, nil)
	return cands
}

// splitModels takes "TL-WR740N/WR741ND" apart: the first model and the
// others, which inherit a "TL-" prefix.
func splitModels(m string) (string, []string) {
	if !strings.Contains(m, "/") {
		return m, nil
	}
	p := advisory.ParseProductName(m)
	if len(p.Models) < 2 {
		return m, nil
	}
	first := p.Models[0]
	var alts []string
	for _, a := range p.Models[1:] {
		if strings.HasPrefix(first, "TL-") && !strings.HasPrefix(a, "TL-") {
			a = "TL-" + a
		}
		alts = append(alts, a)
	}
	return first, alts
}

// choose picks each field from the candidates: the vendor with the most
// weight, then for every other field the best candidate that names that
// vendor or none.
func choose(cands []candidate) Result {
	var res Result
	vendorKey := pickVendor(cands)
	for _, f := range []struct {
		name string
		dst  *Field
	}{{"vendor", &res.Vendor}, {"model", &res.Model}, {"hw_rev", &res.HWRev}, {"firmware", &res.Firmware}, {"region", &res.Region}, {"os", &res.OS}} {
		var eligible []candidate
		for _, c := range cands {
			if c.field != f.name {
				continue
			}
			if f.name == "vendor" && advisory.VendorKey(c.value) != vendorKey {
				res.Conflicts = appendConflict(res.Conflicts, c)
				continue
			}
			if f.name != "vendor" && c.vendor != "" && c.vendor != vendorKey {
				res.Conflicts = appendConflict(res.Conflicts, c)
				continue
			}
			eligible = append(eligible, c)
		}
		clusters := cluster(f.name, eligible)
		if len(clusters) == 0 {
			continue
		}
		win := clusters[0]
		*f.dst = fieldOf(win)
		if f.name == "vendor" {
			f.dst.Value = advisory.VendorName(f.dst.Value)
		}
		if f.name == "model" {
			res.ModelAlternatives = win[0].alts
		}
		for _, lost := range clusters[1:] {
			for _, c := range lost {
				res.Conflicts = appendConflict(res.Conflicts, c)
			}
		}
	}
	res.Identity = advisory.Identity{Vendor: res.Vendor.Value, Model: res.Model.Value, HWRev: res.HWRev.Value,
		Region: res.Region.Value, Firmware: res.Firmware.Value}
	res.Identified = res.Vendor.Value != ""
	res.Confidence = finding.ConfidenceLow
	if res.Model.Value != "" {
		res.Confidence = res.Model.Confidence
	}
	return res
}

func weight(c finding.Confidence) int {
	switch c {
	case finding.ConfidenceHigh:
		return 4
	case finding.ConfidenceMedium:
		return 2
	}
	return 1
}

// pickVendor returns the vendor key with the most weight; each rule and
// string counts once. Ties go to the vendor seen first.
func pickVendor(cands []candidate) string {
	score := map[string]int{}
	first := map[string]int{}
	counted := map[string]bool{}
	for _, c := range cands {
		if c.field != "vendor" {
			continue
		}
		k := advisory.VendorKey(c.value)
		if _, ok := first[k]; !ok {
			first[k] = c.order
		}
		id := k + "\x00" + c.src.Rule + "\x00" + c.src.Value
		if counted[id] {
			continue
		}
		counted[id] = true
		score[k] += weight(c.conf)
	}
	best := ""
	for k, s := range score {
		if best == "" || s > score[best] || (s == score[best] && first[k] < first[best]) {
			best = k
		}
	}
	return best
}

// cluster groups candidates that agree, best group first. Candidates are
// ranked by confidence, then our rules before recog, then order seen.
func cluster(field string, cs []candidate) [][]candidate {
	slices.SortStableFunc(cs, func(a, b candidate) int {
		if c := cmp.Compare(b.conf, a.conf); c != 0 {
			return c
		}
		if a.own != b.own {
			if a.own {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.order, b.order)
	})
	var out [][]candidate
next:
	for _, c := range cs {
		for i := range out {
			if agree(field, out[i][0].value, c.value) {
				out[i] = append(out[i], c)
				continue next
			}
		}
		out = append(out, []candidate{c})
	}
	return out
}

// agree reports whether two values of a field name the same thing. Model
// names agree when one's key ends with the other's ("Wireless N Router
// WR841N" and "TL-WR841N"), which is how recog and realms carry them.
func agree(field, a, b string) bool {
	switch field {
	case "vendor":
		return advisory.VendorKey(a) == advisory.VendorKey(b)
	case "model":
		ka, kb := advisory.ModelKey(a), advisory.ModelKey(b)
		if ka == kb {
			return true
		}
		if len(ka) > len(kb) {
			ka, kb = kb, ka
		}
		return len(ka) >= 4 && strings.HasSuffix(kb, ka)
	case "hw_rev":
		return advisory.CanonicalHWRev(a) == advisory.CanonicalHWRev(b)
	}
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// fieldOf builds the chosen field: the head's value, confidence raised one
// level when two different probes agree, sources deduplicated.
func fieldOf(cs []candidate) Field {
	f := Field{Value: cs[0].value, Confidence: cs[0].conf}
	probes := map[string]bool{}
	seen := map[Source]bool{}
	for _, c := range cs {
		probes[c.src.Probe] = true
		if !seen[c.src] {
			seen[c.src] = true
			f.Sources = append(f.Sources, c.src)
		}
	}
	if len(probes) > 1 && f.Confidence < finding.ConfidenceHigh {
		f.Confidence++
	}
	return f
}

func appendConflict(cs []Conflict, c candidate) []Conflict {
	for i := range cs {
		if cs[i].Field == c.field && agree(c.field, cs[i].Value, c.value) {
			if !slices.Contains(cs[i].Sources, c.src) {
				cs[i].Sources = append(cs[i].Sources, c.src)
			}
			return cs
		}
	}
	return append(cs, Conflict{Field: c.field, Value: c.value, Sources: []Source{c.src}})
}

// normalize tidies values from rules and recog alike.
func normalize(v Values) Values {
	tidy := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	v.Vendor = tidy(v.Vendor)
	if v.Vendor != "" {
		v.Vendor = advisory.VendorName(v.Vendor)
	}
	v.Model = tidy(v.Model)
	v.Firmware = tidy(v.Firmware)
	v.Region = strings.ToUpper(tidy(v.Region))
	v.OS = tidy(v.OS)
	v.HWRev = normHWRev(tidy(v.HWRev))
	return v
}

// normHWRev renders "V10" as "10" and the shared-firmware form "6/v7" or
// "v6/v7" as "6/7" (which advisory matching treats as unknown: the device
// is one of the two).
func normHWRev(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = advisory.CanonicalHWRev(p)
	}
	return strings.Join(parts, "/")
}
