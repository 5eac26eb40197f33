// SPDX-License-Identifier: Apache-2.0

package version

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A generated version: the string to parse and a reference ordering key
// built independently of the parser.
type genVersion struct {
	scheme Scheme
	raw    string
	key    refKey
}

// refKey is what the reference order looks at.
type refKey struct {
	nums   []uint32 // compared with zero padding
	pre    int      // 1 alpha, 2 beta, 3 rc, 4 release
	preNum uint32
	line   int // TP-Link: position in the firmware line; -1 if not TP-Link
	date   uint32
	hw     int
	hasNum bool
	snap   int // OpenWrt: 0 release, 1 master snapshot, 2+ branch snapshot
}

func refNumeric(a, b refKey) int {
	for i := range max(len(a.nums), len(b.nums)) {
		var x, y uint32
		if i < len(a.nums) {
			x = a.nums[i]
		}
		if i < len(b.nums) {
			y = b.nums[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.pre, b.pre); c != 0 {
		return c
	}
	return cmp.Compare(a.preNum, b.preNum)
}

var preWords = [...]string{1: "alpha", 2: "beta", 3: "rc"}

func genGeneric(r *rand.Rand) genVersion {
	k := refKey{pre: 4, line: -1}
	var b strings.Builder
	if r.IntN(4) == 0 {
		b.WriteString("v")
	}
	for i := range 1 + r.IntN(4) {
		n := uint32(r.IntN(4))
		k.nums = append(k.nums, n)
		if i > 0 {
			b.WriteString([]string{".", ".", ".", "-", "_", ".r"}[r.IntN(6)])
		}
		fmt.Fprintf(&b, "%0*d", 1+r.IntN(2), n)
	}
	if r.IntN(3) == 0 {
		b.WriteString(".0") // "1.2" == "1.2.0"
	}
	if r.IntN(2) == 0 {
		k.pre = 1 + r.IntN(3)
		b.WriteString([]string{"-", ".", ""}[r.IntN(3)])
		b.WriteString(preWords[k.pre])
		if r.IntN(2) == 0 {
			k.preNum = uint32(r.IntN(3))
			fmt.Fprintf(&b, "%s%d", []string{"", ".", "-"}[r.IntN(3)], k.preNum)
		}
	}
	if r.IntN(5) == 0 {
		b.WriteString("+build.5")
	}
	return genVersion{scheme: Generic, raw: b.String(), key: k}
}

func genRouterOS(r *rand.Rand) genVersion {
	k := refKey{pre: 4, line: -1, nums: []uint32{uint32(6 + r.IntN(2)), uint32(r.IntN(3))}}
	if r.IntN(2) == 0 {
		k.nums = append(k.nums, uint32(r.IntN(3)))
	}
	s := fmt.Sprint(k.nums[0])
	for _, n := range k.nums[1:] {
		s += fmt.Sprintf(".%d", n)
	}
	if r.IntN(3) == 0 {
		k.pre = 2 + r.IntN(2)
		k.preNum = uint32(1 + r.IntN(3))
		s += fmt.Sprintf("%s%d", preWords[k.pre], k.preNum)
	}
	s = []string{"", "v", "RouterOS "}[r.IntN(3)] + s
	s += []string{"", "", " (stable)", " (long-term)", " (testing)"}[r.IntN(5)]
	return genVersion{scheme: RouterOS, raw: s, key: k}
}

// genOpenWrt draws from realistic builds: every release has one r-number,
// and r-numbers grow with releases, as they do on OpenWrt's branches.
func genOpenWrt(r *rand.Rand) genVersion {
	k := refKey{pre: 4, line: -1}
	switch r.IntN(6) {
	case 0:
		k.snap = 1
		k.preNum = uint32(r.IntN(5)) // reuse as the r-number
		return genVersion{scheme: OpenWrt, raw: fmt.Sprintf("SNAPSHOT r%d-9e6ba5b43d", 26000+k.preNum), key: k}
	case 1:
		major := []uint32{22, 23}[r.IntN(2)]
		k.snap = int(major)
		k.nums = []uint32{major, 3}
		k.preNum = uint32(r.IntN(5))
		return genVersion{scheme: OpenWrt, raw: fmt.Sprintf("OpenWrt %d.03-SNAPSHOT r%d-842932a63d", major, 20000+k.preNum), key: k}
	}
	major := []uint32{19, 21, 22, 23}[r.IntN(4)]
	patch := uint32(r.IntN(3))
	k.nums = []uint32{major, 3, patch}
	s := fmt.Sprintf("%d.03.%d", major, patch)
	rnum := major*1000 + patch*10 + 9
	if patch == 0 && r.IntN(2) == 0 {
		k.pre, k.preNum = 3, uint32(1+r.IntN(2))
		s += fmt.Sprintf("-rc%d", k.preNum)
		rnum = major*1000 + k.preNum
	}
	if r.IntN(2) == 0 {
		s += fmt.Sprintf(" r%d-234f1a2efa", rnum)
	}
	if r.IntN(3) == 0 {
		s = "OpenWrt " + s
	}
	return genVersion{scheme: OpenWrt, raw: s, key: k}
}

func refOpenWrt(a, b refKey) (int, bool) {
	if a.snap != 0 || b.snap != 0 {
		if a.snap != b.snap {
			return 0, false
		}
		return cmp.Compare(a.preNum, b.preNum), true
	}
	return refNumeric(a, b), true
}

// genTPLink draws from one realistic firmware line: version numbers, build
// dates and Rel. numbers all grow together, written in every shape TP-Link
// uses. Some builds carry another hardware revision.
func genTPLink(r *rand.Rand) genVersion {
	line := r.IntN(10)
	nums := []uint32{1, uint32(line / 3), uint32(line % 3)}
	ver := fmt.Sprintf("%d.%d.%d", nums[0], nums[1], nums[2])
	y, m, d := 2015+line, 1+line, 10+line
	short := fmt.Sprintf("%02d%02d%02d", y%100, m, d)
	long := fmt.Sprintf("%04d%02d%02d", y, m, d)
	hw := 2
	if r.IntN(5) == 0 {
		hw = 3
	}
	k := refKey{line: line, date: uint32(y*10000 + m*100 + d), hw: hw, hasNum: true, nums: nums}
	var s string
	switch r.IntN(9) {
	case 0:
		s = fmt.Sprintf("%s Build %s Rel.%dn", ver, short, 50000+line)
		k.hw = 0
	case 1:
		s = fmt.Sprintf("%s build %s rel.%d", ver, long, 50000+line)
		k.hw = 0
	case 2:
		s, k.date, k.hw = ver, 0, 0
	case 3:
		s, k.hasNum = fmt.Sprintf("V%d_%s", hw, short), false
	case 4:
		s, k.hasNum = fmt.Sprintf("Archer C7(EU)_V%d_%s", hw, short), false
	case 5:
		s, k.hasNum = fmt.Sprintf("EU_V%d_%s", hw, long), false
	case 6:
		s, k.hasNum, k.hw = short, false, 0
	case 7:
		s = fmt.Sprintf("Archer C7(EU)_V%d_%s Build %s", hw, ver, long)
	default:
		s = fmt.Sprintf("%s 4.19 Build %s Rel.%dn", ver, short, 50000+line)
		k.hw = 0
	}
	return genVersion{scheme: TPLink, raw: s, key: k}
}

func refTPLink(a, b refKey) (int, bool) {
	if a.hw != 0 && b.hw != 0 && a.hw != b.hw {
		return 0, false
	}
	if (a.date == 0 || b.date == 0) && (!a.hasNum || !b.hasNum) {
		return 0, false
	}
	return cmp.Compare(a.line, b.line), true
}

func genDate(r *rand.Rand) genVersion {
	y, m, d := 2000+r.IntN(3), 1+r.IntN(12), 1+r.IntN(3)
	k := refKey{line: -1, date: uint32(y*10000 + m*100 + d)}
	formats := []string{"%02[1]d%02[2]d%02[3]d", "%04[4]d%02[2]d%02[3]d", "%04[4]d-%02[2]d-%02[3]d"}
	s := fmt.Sprintf(formats[r.IntN(3)], y%100, m, d, y)
	return genVersion{scheme: Date, raw: s, key: k}
}

func refDate(a, b refKey) (int, bool) { return cmp.Compare(a.date, b.date), true }

func TestCompareProperties(t *testing.T) {
	numeric := func(a, b refKey) (int, bool) { return refNumeric(a, b), true }
	tests := []struct {
		name string
		gen  func(*rand.Rand) genVersion
		ref  func(a, b refKey) (int, bool)
	}{
		{name: "generic", gen: genGeneric, ref: numeric},
		{name: "routeros", gen: genRouterOS, ref: numeric},
		{name: "openwrt", gen: genOpenWrt, ref: refOpenWrt},
		{name: "tplink", gen: genTPLink, ref: refTPLink},
		{name: "date", gen: genDate, ref: refDate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			gens := make([]genVersion, 60)
			vs := make([]Version, len(gens))
			for i := range gens {
				gens[i] = tc.gen(r)
				vs[i] = mustParse(t, gens[i].scheme, gens[i].raw)
				back, err := Parse(vs[i].Scheme, vs[i].String())
				if err != nil || back != vs[i] {
					t.Errorf("Parse(String()) of %q = %+v, %v; want %+v", gens[i].raw, back, err, vs[i])
				}
			}
			for i := range vs {
				for j := range vs {
					got, ok := Compare(vs[i], vs[j])
					want, wantOK := tc.ref(gens[i].key, gens[j].key)
					if got != want || ok != wantOK {
						t.Errorf("Compare(%q, %q) = %d, %v; reference says %d, %v", gens[i].raw, gens[j].raw, got, ok, want, wantOK)
					}
				}
			}
			checkAntisymmetric(t, vs)
			checkTransitive(t, vs)
		})
	}
}

// checkAntisymmetric: Compare(b, a) is always the negation of Compare(a, b).
func checkAntisymmetric(t *testing.T, vs []Version) {
	t.Helper()
	for _, a := range vs {
		for _, b := range vs {
			c1, ok1 := Compare(a, b)
			c2, ok2 := Compare(b, a)
			if ok1 != ok2 || c1 != -c2 {
				t.Errorf("Compare(%q, %q) = %d, %v but reversed = %d, %v", a, b, c1, ok1, c2, ok2)
			}
		}
	}
}

// checkTransitive: among versions that order against each other, a <= b and
// b <= c give a <= c, strictly if either step is strict.
func checkTransitive(t *testing.T, vs []Version) {
	t.Helper()
	for _, a := range vs {
		for _, b := range vs {
			ab, ok := Compare(a, b)
			if !ok || ab > 0 {
				continue
			}
			for _, c := range vs {
				bc, ok := Compare(b, c)
				if !ok || bc > 0 {
					continue
				}
				ac, ok := Compare(a, c)
				if !ok {
					continue
				}
				if ac > 0 || (ac == 0 && (ab < 0 || bc < 0)) {
					t.Errorf("not transitive: %q vs %q = %d, %q vs %q = %d, but %q vs %q = %d", a, b, ab, b, c, bc, a, c, ac)
				}
			}
		}
	}
}
