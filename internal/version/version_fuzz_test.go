// SPDX-License-Identifier: Apache-2.0

package version

import (
	"errors"
	"testing"
)

// fuzzSeeds are the real strings the table tests use, one per scheme they
// belong to; the fuzzer also tries each under the other schemes.
var fuzzSeeds = []side{
	{TPLink, "3.16.9 Build 200409 Rel.52498n"},
	{TPLink, "V14_260303"},
	{TPLink, "0.9.1 4.19 Build 260303 Rel.42399n"},
	{TPLink, "1.1.4 Build 20230219"},
	{TPLink, "Archer C7(EU)_V2_241108"},
	{TPLink, "US_V5_260419"},
	{TPLink, "Archer AX3000(JP)_V1_1.1.2 Build 20231115"},
	{TPLink, "0.9.1 Build 20231120 Rel.62366"},
	{TPLink, "V4_250925"},
	{TPLink, "TL-WR841N(EU)_V14_230506"},
	{TPLink, "V12_230317"},
	{TPLink, "V11_211209"},
	{TPLink, "3.12.5 Build 100929 Rel.53720n"},
	{TPLink, "1.2.3 build 20200424 rel.41389(4555)"},
	{TPLink, "TL-WA855RE V5 20200415-rel37464"},
	{TPLink, "(EU)_V5_200731"},
	{TPLink, "All versions prior to version 1.14 Build 20230219"},
	{Date, "241108"},
	{Date, "20241108"},
	{Date, "2024-11-08"},
	{RouterOS, "6.49.6"},
	{RouterOS, "7.16"},
	{RouterOS, "7.15rc3"},
	{RouterOS, "7.16beta2"},
	{RouterOS, "6.49.7 (long-term)"},
	{RouterOS, "7.16 (stable)"},
	{RouterOS, "v6.48.6"},
	{RouterOS, "RouterOS 7.16.1"},
	{OpenWrt, "23.05.3"},
	{OpenWrt, "23.05.3 r23809-234f1a2efa"},
	{OpenWrt, "OpenWrt 23.05.3 r23809-234f1a2efa"},
	{OpenWrt, "22.03.0-rc1"},
	{OpenWrt, "SNAPSHOT r26345-9e6ba5b43d"},
	{OpenWrt, "OpenWrt 23.05-SNAPSHOT r23630+5-842932a63d"},
	{OpenWrt, "14.07"},
	{OpenWrt, "Chaos Calmer 15.05.1"},
	{Generic, "1.2.3"},
	{Generic, "v2.07.2"},
	{Generic, "00.07.03.4"},
	{Generic, "2.3.0.r5417"},
	{Generic, "1.0.0-rc1"},
	{Generic, "1.0.0-beta.2+exp.sha.5114f85"},
	{Generic, "V100R001C00"},
	{Generic, "n/a"},
	{Generic, "-"},
	{Generic, ""},
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(uint8(s.scheme), s.raw)
	}
	f.Fuzz(func(t *testing.T, scheme uint8, raw string) {
		s := Scheme(scheme % 6) // 5 is not a scheme: Parse must say so
		v, err := Parse(s, raw)
		explained := Explain(s, raw)
		if (err == nil) != (explained == nil) || (err != nil && !errors.Is(explained, err)) {
			t.Fatalf("Parse error %v but Explain %v", err, explained)
		}
		if err != nil {
			return
		}
		if c, ok := Compare(v, v); c != 0 || !ok {
			t.Fatalf("Compare(v, v) for %v %q = %d, %v; want 0, true", s, raw, c, ok)
		}
		back, err := Parse(v.Scheme, v.String())
		if err != nil || back != v {
			t.Fatalf("Parse(String()) of %q = %+v, %v; want %+v", raw, back, err, v)
		}
		// The accessors must not panic on anything Parse accepts.
		_, _, _ = v.Date()
		_, _, _, _ = v.HasDate(), v.HWRev(), v.Region(), v.Channel()
	})
}

func FuzzCompare(f *testing.F) {
	for i, a := range fuzzSeeds {
		b := fuzzSeeds[(i+1)%len(fuzzSeeds)]
		f.Add(uint8(a.scheme), a.raw, uint8(b.scheme), b.raw)
		f.Add(uint8(a.scheme), a.raw, uint8(Date), "241108")
		f.Add(uint8(a.scheme), a.raw, uint8(Generic), "1.0.0")
	}
	f.Fuzz(func(t *testing.T, sa uint8, a string, sb uint8, b string) {
		va, err := Parse(Scheme(sa%5), a)
		if err != nil {
			return
		}
		vb, err := Parse(Scheme(sb%5), b)
		if err != nil {
			return
		}
		c1, ok1 := Compare(va, vb)
		c2, ok2 := Compare(vb, va)
		if ok1 != ok2 || c1 != -c2 {
			t.Fatalf("Compare(%v %q, %v %q) = %d, %v but reversed = %d, %v", va.Scheme, a, vb.Scheme, b, c1, ok1, c2, ok2)
		}
		if c1 < -1 || c1 > 1 || (!ok1 && c1 != 0) {
			t.Fatalf("Compare(%v %q, %v %q) = %d, %v; want -1, 0 or 1, and 0 when not ok", va.Scheme, a, vb.Scheme, b, c1, ok1)
		}
	})
}
