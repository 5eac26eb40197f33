// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/version"
)

// Reason says why a Match has its status.
type Reason uint8

// Reasons. Their String form is stable and used in JSON output.
const (
	ReasonNone            Reason = iota
	ReasonInRange                // the build is inside a listed range
	ReasonAllBuilds              // the source lists every build
	ReasonAtOrAfterFix           // the build is at or after the first fixed build
	ReasonOutsideRanges          // no listed range contains the build
	ReasonNeedFirmware           // the status depends on the build, which is unknown
	ReasonNeedHWRev              // the status depends on the hardware revision, which is unknown
	ReasonNeedRegion             // the status depends on the market variant, which is unknown
	ReasonHWNotListed            // the model is listed, this hardware revision is not
	ReasonRegionNotListed        // the model is listed, this market variant is not
	ReasonBadFirmware            // the build string could not be read
	ReasonIncomparable           // the build cannot be ordered against the listed builds
	ReasonFreeText               // the source gives the versions only in words
	ReasonCampaign               // the model is named as targeted by a campaign
)

var reasonNames = [...]string{
	"", "in_range", "all_builds", "at_or_after_fix", "outside_ranges", "need_firmware",
	"need_hw_rev", "need_region", "hw_rev_not_listed", "region_not_listed", "bad_firmware",
	"incomparable", "free_text", "campaign",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Match is the verdict of one advisory for one identity.
type Match struct {
	Advisory *Advisory
	// Product is the product statement that decided; nil when several
	// applied and disagreed (see Reason).
	Product    *Product
	Status     Status
	Reason     Reason
	Confidence Confidence
	// FixedIn is the first fixed build for this identity, when known.
	FixedIn string
	// NoFix is set when a source says no fix exists or is planned.
	NoFix bool
	// Region is the variant the decision depends on (ReasonNeedRegion).
	Region string
	// Text is a source's free-text version (ReasonFreeText).
	Text string
	// KEV is the catalog entry of one of the advisory's CVEs, nil if none.
	KEV *KEVEntry
	// Exploited is the advisory's own exploitation statement, nil if none.
	Exploited *Exploitation
}

// Index answers advisory questions for identities. Build it once with
// NewIndex; it is safe for concurrent use.
type Index struct {
	advs    []Advisory
	rules   []rule
	byModel map[string][]int32 // model key → rules, grouped by advisory
	kev     map[string]*KEVEntry
	kevVer  string
	life    []lifeRule
	byLife  map[string][]int32
	models  []ModelInfo
	// Warnings are data problems found while compiling (ranges that do not
	// parse); the affected ranges count as free text.
	Warnings []string
}

// ModelInfo names one model the index knows.
type ModelInfo struct {
	Key    string
	Vendor string
	Model  string
}

type rule struct {
	adv, prod int32
	vendor    string // vendor key; "" any
	hwMaj     int    // -1: any revision
	hwMin     int    // -1: any minor
	region    string // upper case; "" any
	scheme    version.Scheme
	ranges    []crange
	def       Status
	fixed     version.Version // first fixed build, when known
	hasFixed  bool
}

type crange struct {
	status              Status
	all                 bool
	text                string
	exact, intro        version.Version
	lt, lte             version.Version
	hasExact, hasIntro  bool
	hasLT, hasLTE       bool
	introZero, anyBound bool
}

type lifeRule struct {
	l      *Lifecycle
	vendor string
	hwMaj  int
	hwMin  int
	region string
}

// NewIndex compiles ds. The Index keeps pointers into ds's advisories; ds
// must not be changed afterwards.
func NewIndex(ds *Dataset) *Index {
	ix := &Index{
		advs:    ds.Advisories,
		byModel: make(map[string][]int32),
		kev:     make(map[string]*KEVEntry, len(ds.KEV)),
		kevVer:  ds.KEVVersion,
		byLife:  make(map[string][]int32),
	}
	for cve, e := range ds.KEV {
		ix.kev[cve] = &e
	}
	seen := map[string]bool{}
	for ai := range ix.advs {
		a := &ix.advs[ai]
		for pi := range a.Products {
			p := &a.Products[pi]
			key := ModelKey(p.Model)
			if key == "" {
				continue
			}
			if pk, ok := platformKey(VendorKey(p.Vendor), key); ok {
				key = pk
			}
			r := rule{adv: int32(ai), prod: int32(pi), vendor: VendorKey(p.Vendor), hwMaj: -1, hwMin: -1,
				region: strings.ToUpper(p.Region), scheme: p.Scheme, def: p.Default}
			if p.HWRev != "" {
				if maj, min, ok := ParseHWRev(p.HWRev); ok {
					r.hwMaj, r.hwMin = maj, min
				}
			}
			for _, rg := range p.Ranges {
				cr, err := compileRange(p.Scheme, rg)
				if err != nil {
					ix.Warnings = append(ix.Warnings, fmt.Sprintf("%s: %s %s: %v", a.ID, p.Model, p.HWRev, err))
				}
				r.ranges = append(r.ranges, cr)
			}
			r.fixed, r.hasFixed = firstFixed(p)
			ix.byModel[key] = append(ix.byModel[key], int32(len(ix.rules)))
			ix.rules = append(ix.rules, r)
			if !seen[key] {
				seen[key] = true
				ix.models = append(ix.models, ModelInfo{Key: key, Vendor: VendorName(p.Vendor), Model: p.Model})
			}
		}
	}
	for i := range ds.Lifecycle {
		l := &ds.Lifecycle[i]
		key := ModelKey(l.Model)
		lr := lifeRule{l: l, vendor: VendorKey(l.Vendor), hwMaj: -1, hwMin: -1, region: strings.ToUpper(l.Region)}
		if maj, min, ok := ParseHWRev(l.HWRev); ok && l.HWRev != "" {
			lr.hwMaj, lr.hwMin = maj, min
		}
		ix.byLife[key] = append(ix.byLife[key], int32(len(ix.life)))
		ix.life = append(ix.life, lr)
		if !seen[key] {
			seen[key] = true
			ix.models = append(ix.models, ModelInfo{Key: key, Vendor: VendorName(l.Vendor), Model: l.Model})
		}
	}
	// Rules of one advisory must be adjacent for Match; they are, because
	// they were appended advisory by advisory. Keep it explicit anyway.
	for k, v := range ix.byModel {
		slices.SortStableFunc(v, func(a, b int32) int { return cmp.Compare(ix.rules[a].adv, ix.rules[b].adv) })
		ix.byModel[k] = v
	}
	slices.SortFunc(ix.models, func(a, b ModelInfo) int { return cmp.Compare(a.Key, b.Key) })
	return ix
}

func compileRange(s version.Scheme, rg Range) (crange, error) {
	cr := crange{status: rg.Status, all: rg.All, text: rg.Text}
	if rg.Scheme != "" {
		bs, err := version.ParseScheme(rg.Scheme)
		if err != nil {
			return crange{status: rg.Status, text: rg.Scheme}, err
		}
		s = bs
	}
	parse := func(raw string, v *version.Version, has *bool) error {
		if raw == "" {
			return nil
		}
		pv, err := version.Parse(s, raw)
		if err != nil {
			return fmt.Errorf("version %q (%s): %w", raw, s, err)
		}
		*v, *has = pv, true
		cr.anyBound = true
		return nil
	}
	if rg.Introduced == "0" || rg.Introduced == "*" {
		cr.introZero = true
	} else if err := parse(rg.Introduced, &cr.intro, &cr.hasIntro); err != nil {
		return crange{status: rg.Status, text: rg.Introduced}, err
	}
	for _, f := range []struct {
		raw string
		v   *version.Version
		has *bool
	}{{rg.Exact, &cr.exact, &cr.hasExact}, {rg.LessThan, &cr.lt, &cr.hasLT}, {rg.LessThanOrEqual, &cr.lte, &cr.hasLTE}} {
		if err := parse(f.raw, f.v, f.has); err != nil {
			return crange{status: rg.Status, text: f.raw}, err
		}
	}
	if !cr.all && !cr.anyBound && cr.text == "" && !cr.introZero {
		return crange{status: rg.Status, text: "(empty range)"}, fmt.Errorf("range has no bound")
	}
	if cr.introZero && !cr.hasLT && !cr.hasLTE && !cr.hasExact {
		cr.all = true
	}
	return cr, nil
}

// firstFixed returns the first fixed build: FixedIn, else the upper
// bound of the single affected range that starts at the first build.
func firstFixed(p *Product) (version.Version, bool) {
	if p.FixedIn != "" {
		if v, err := version.Parse(p.Scheme, p.FixedIn); err == nil {
			return v, true
		}
	}
	var out version.Version
	n := 0
	for _, rg := range p.Ranges {
		if rg.Status == StatusAffected && rg.LessThan != "" && (rg.Introduced == "" || rg.Introduced == "0") {
			s := p.Scheme
			if rg.Scheme != "" {
				if bs, err := version.ParseScheme(rg.Scheme); err == nil {
					s = bs
				}
			}
			if v, err := version.Parse(s, rg.LessThan); err == nil {
				out = v
				n++
			}
		}
	}
	return out, n == 1
}

// Advisories returns every advisory in the index.
func (ix *Index) Advisories() []Advisory { return ix.advs }

// KEVVersion returns the catalogVersion of the loaded KEV catalog.
func (ix *Index) KEVVersion() string { return ix.kevVer }

// KEV returns the catalog entry for a CVE.
func (ix *Index) KEV(cve string) (*KEVEntry, bool) {
	e, ok := ix.kev[cve]
	return e, ok
}

// KEVCount returns the number of catalog entries.
func (ix *Index) KEVCount() int { return len(ix.kev) }

// Models returns every model the index has a statement about, sorted by key.
func (ix *Index) Models() []ModelInfo { return ix.models }

// Knows reports whether any advisory or lifecycle statement names the
// identity's model, or its vendor's platform.
func (ix *Index) Knows(id Identity) bool {
	model, platform := ix.rulesFor(id)
	var kb [keyBuf]byte
	_, life := ix.byLife[string(appendModelKey(kb[:0], id.Model))]
	return len(model) > 0 || len(platform) > 0 || life
}

// fwCache parses the identity's firmware once per scheme.
type fwCache struct {
	raw  string
	done [8]bool
	ok   [8]bool
	v    [8]version.Version
}

func (c *fwCache) get(s version.Scheme) (version.Version, bool) {
	i := int(s) & 7
	if !c.done[i] {
		c.done[i] = true
		v, err := version.Parse(s, c.raw)
		c.v[i], c.ok[i] = v, err == nil
	}
	return c.v[i], c.ok[i]
}

// platforms are operating systems whose advisories hold for every model
// of the vendor: a RouterOS flaw is in every MikroTik router that runs the
// affected release. Their rules are indexed under "@vendor".
var platforms = []struct{ vendor, osKey, key string }{
	{"mikrotik", "routeros", "@mikrotik"},
	{"openwrt", "openwrt", "@openwrt"},
}

func platformKey(vendor, modelKey string) (string, bool) {
	for _, p := range platforms {
		if vendor == p.vendor && modelKey == p.osKey {
			return p.key, true
		}
	}
	return "", false
}

// rulesFor returns the rules indexed under the identity's model and,
// for platform vendors, under the platform.
func (ix *Index) rulesFor(id Identity) (model, platform []int32) {
	var kb [keyBuf]byte
	key := appendModelKey(kb[:0], id.Model)
	model = ix.byModel[string(key)]
	for _, p := range platforms {
		if string(key) == p.osKey || (id.Vendor != "" && vendorKeyEqual(id.Vendor, p.vendor)) {
			if string(key) == p.osKey {
				model = nil
			}
			return model, ix.byModel[p.key]
		}
	}
	return model, nil
}

// Match appends to dst one Match for every advisory that names id's model
// (or its vendor's platform, such as RouterOS) and returns the extended
// slice. It does not allocate when dst has room.
func (ix *Index) Match(dst []Match, id Identity) []Match {
	model, platform := ix.rulesFor(id)
	if len(model) == 0 && len(platform) == 0 {
		return dst
	}
	hw := hwOf(id.HWRev)
	fw := fwCache{raw: strings.TrimSpace(id.Firmware)}
	dst = ix.matchRules(dst, model, id, hw, &fw)
	// Platform rules name no hardware: compare the build only.
	return ix.matchRules(dst, platform, id, hwRev{}, &fw)
}

func (ix *Index) matchRules(dst []Match, idxs []int32, id Identity, hw hwRev, fw *fwCache) []Match {
	for i := 0; i < len(idxs); {
		a := ix.rules[idxs[i]].adv
		j := i + 1
		for j < len(idxs) && ix.rules[idxs[j]].adv == a {
			j++
		}
		if m, ok := ix.matchAdvisory(idxs[i:j], id, hw, fw); ok {
			dst = append(dst, m)
		}
		i = j
	}
	return dst
}

type hwRev struct {
	known    bool
	maj, min int
}

func hwOf(s string) hwRev {
	if s == "" {
		return hwRev{}
	}
	maj, min, ok := ParseHWRev(s)
	if !ok {
		return hwRev{}
	}
	return hwRev{known: true, maj: maj, min: min}
}

func (r *rule) hwMatches(hw hwRev) bool {
	if r.hwMaj < 0 {
		return true
	}
	if r.hwMaj != hw.maj {
		return false
	}
	return r.hwMin < 0 || hw.min < 0 || r.hwMin == hw.min
}

// matchAdvisory combines the rules of one advisory for one identity.
func (ix *Index) matchAdvisory(rs []int32, id Identity, hw hwRev, fw *fwCache) (Match, bool) {
	adv := &ix.advs[ix.rules[rs[0]].adv]
	m := Match{Advisory: adv, Confidence: adv.Confidence}
	ix.attachExploitation(&m)

	// Pick the applicable rules: vendor agrees, hardware revision and
	// region are equal or unknown. A rule naming this exact revision wins
	// over a rule for "every revision".
	var (
		specific, generic, listedOther int
		regionOther                    int
	)
	for _, ri := range rs {
		r := &ix.rules[ri]
		if id.Vendor != "" && r.vendor != "" && !vendorKeyEqual(id.Vendor, r.vendor) {
			continue
		}
		if id.Region != "" && r.region != "" && !strings.EqualFold(id.Region, r.region) {
			regionOther++
			continue
		}
		switch {
		case r.hwMaj < 0:
			generic++
		case !hw.known || r.hwMatches(hw):
			specific++
		default:
			listedOther++
		}
	}
	if specific+generic == 0 {
		if listedOther == 0 && regionOther == 0 {
			return Match{}, false // another vendor's model of the same name
		}
		m.Status = StatusNotAffected
		m.Reason = ReasonHWNotListed
		if listedOther == 0 {
			m.Reason = ReasonRegionNotListed
		}
		return m, true
	}
	useSpecific := specific > 0
	first := true
	for _, ri := range rs {
		r := &ix.rules[ri]
		if id.Vendor != "" && r.vendor != "" && !vendorKeyEqual(id.Vendor, r.vendor) {
			continue
		}
		if id.Region != "" && r.region != "" && !strings.EqualFold(id.Region, r.region) {
			continue
		}
		if useSpecific != (r.hwMaj >= 0) || (r.hwMaj >= 0 && hw.known && !r.hwMatches(hw)) {
			continue
		}
		one := ix.evalRule(r, adv, fw)
		if r.region != "" && id.Region == "" && one.Status == StatusAffected {
			one.Status, one.Reason, one.Region = StatusUnknown, ReasonNeedRegion, r.region
		}
		if first {
			first = false
			m.Product, m.Status, m.Reason = one.Product, one.Status, one.Reason
			m.FixedIn, m.NoFix, m.Text, m.Region = one.FixedIn, one.NoFix, one.Text, one.Region
			if one.Confidence != ConfidenceUnknown {
				m.Confidence = one.Confidence
			}
			continue
		}
		if one.Status != m.Status || one.FixedIn != m.FixedIn {
			// Rules disagree: the answer depends on what we do not know.
			m.Product, m.Status, m.FixedIn, m.NoFix, m.Text = nil, StatusUnknown, "", false, ""
			switch {
			case useSpecific && !hw.known:
				m.Reason = ReasonNeedHWRev
			case m.Reason == ReasonNeedRegion || one.Reason == ReasonNeedRegion:
				m.Reason = ReasonNeedRegion
			default:
				m.Reason = ReasonIncomparable
			}
		}
	}
	// With the revision unknown and only revision-specific statements,
	// the device may be a revision the advisory does not list at all.
	if useSpecific && !hw.known && generic == 0 && m.Reason != ReasonNeedHWRev {
		m.Product, m.Status, m.Reason, m.FixedIn, m.NoFix, m.Text = nil, StatusUnknown, ReasonNeedHWRev, "", false, ""
	}
	if adv.Kind == KindCampaign {
		m.Status, m.Reason = StatusAffected, ReasonCampaign
	}
	return m, true
}

func (ix *Index) attachExploitation(m *Match) {
	for _, cve := range m.Advisory.CVEs {
		if e, ok := ix.kev[cve]; ok {
			m.KEV = e
			break
		}
	}
	if len(m.Advisory.Exploited) > 0 {
		m.Exploited = &m.Advisory.Exploited[0]
	}
}

// evalRule decides one product statement for the identity's firmware.
func (ix *Index) evalRule(r *rule, adv *Advisory, fw *fwCache) Match {
	p := &adv.Products[r.prod]
	m := Match{Product: p, FixedIn: p.FixedIn, NoFix: p.NoFix, Confidence: p.Confidence}
	if m.FixedIn == "" && r.hasFixed {
		m.FixedIn = r.fixed.String()
	}
	// Ranges that hold for every build decide without a firmware.
	onlyAll := len(r.ranges) > 0
	for i := range r.ranges {
		if !r.ranges[i].all {
			onlyAll = false
		}
	}
	if onlyAll {
		m.Status, m.Reason = r.ranges[0].status, ReasonAllBuilds
		return m
	}
	if fw.raw == "" {
		m.Status, m.Reason = StatusUnknown, ReasonNeedFirmware
		for i := range r.ranges {
			if r.ranges[i].text != "" {
				m.Text = r.ranges[i].text
			}
		}
		return m
	}
	v, ok := fw.get(r.scheme)
	if !ok {
		m.Status, m.Reason = StatusUnknown, ReasonBadFirmware
		return m
	}
	incomparable, text := false, ""
	for i := range r.ranges {
		cr := &r.ranges[i]
		if cr.text != "" && !cr.anyBound && !cr.all {
			text = cr.text
			continue
		}
		in, ok := cr.contains(v)
		if !ok {
			incomparable = true
			continue
		}
		if in {
			m.Status, m.Reason = cr.status, ReasonInRange
			switch {
			case cr.all:
				m.Reason = ReasonAllBuilds
			case cr.status == StatusFixed:
				m.Reason = ReasonAtOrAfterFix
			}
			if cr.status == StatusNotAffected && r.hasFixed {
				if c, ok := version.Compare(v, r.fixed); ok && c >= 0 {
					m.Status, m.Reason = StatusFixed, ReasonAtOrAfterFix
				}
			}
			return m
		}
	}
	switch {
	case incomparable:
		m.Status, m.Reason = StatusUnknown, ReasonIncomparable
	case text != "":
		m.Status, m.Reason, m.Text = StatusUnknown, ReasonFreeText, text
	default:
		m.Status, m.Reason = r.def, ReasonOutsideRanges
		if r.hasFixed {
			if c, ok := version.Compare(v, r.fixed); ok && c >= 0 {
				m.Status, m.Reason = StatusFixed, ReasonAtOrAfterFix
			}
		}
	}
	return m
}

// contains reports whether v is inside the range; ok is false when the
// comparison cannot be made honestly.
func (cr *crange) contains(v version.Version) (in, ok bool) {
	if cr.all {
		return true, true
	}
	if cr.hasExact {
		c, ok := version.Compare(v, cr.exact)
		return ok && c == 0, ok
	}
	if cr.hasIntro {
		c, ok := version.Compare(v, cr.intro)
		if !ok {
			return false, false
		}
		if c < 0 {
			return false, true
		}
	}
	if cr.hasLT {
		c, ok := version.Compare(v, cr.lt)
		if !ok {
			return false, false
		}
		return c < 0, true
	}
	if cr.hasLTE {
		c, ok := version.Compare(v, cr.lte)
		if !ok {
			return false, false
		}
		return c <= 0, true
	}
	return cr.hasIntro || cr.introZero, true
}

// Lifecycle returns the most specific end-of-life statement for id: one
// naming its hardware revision beats one for every revision.
func (ix *Index) Lifecycle(id Identity) (*Lifecycle, bool) {
	var kb [keyBuf]byte
	key := appendModelKey(kb[:0], id.Model)
	idxs := ix.byLife[string(key)]
	hw := hwOf(id.HWRev)
	var best *lifeRule
	bestScore := -1
	for _, i := range idxs {
		lr := &ix.life[i]
		if id.Vendor != "" && lr.vendor != "" && !vendorKeyEqual(id.Vendor, lr.vendor) {
			continue
		}
		score := 0
		if lr.hwMaj >= 0 {
			if !hw.known || lr.hwMaj != hw.maj {
				continue
			}
			score += 2
		}
		if lr.region != "" {
			if id.Region == "" || !strings.EqualFold(id.Region, lr.region) {
				continue
			}
			score++
		}
		if score > bestScore || (score == bestScore && lr.l.Conf > best.l.Conf) {
			best, bestScore = lr, score
		}
	}
	if best == nil {
		return nil, false
	}
	return best.l, true
}
