// SPDX-License-Identifier: Apache-2.0

package target

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		first, last string
		count       int
		prefixes    string
		wantErr     string
	}{
		{name: "address", in: "192.0.2.1", first: "192.0.2.1", last: "192.0.2.1", count: 1, prefixes: "192.0.2.1/32"},
		{name: "cidr", in: "198.51.100.0/30", first: "198.51.100.0", last: "198.51.100.3", count: 4, prefixes: "198.51.100.0/30"},
		{name: "range", in: "192.0.2.10-192.0.2.20", first: "192.0.2.10", last: "192.0.2.20", count: 11,
			prefixes: "192.0.2.10/31 192.0.2.12/30 192.0.2.16/30 192.0.2.20/32"},
		{name: "short_range", in: "192.0.2.250-255", first: "192.0.2.250", last: "192.0.2.255", count: 6, prefixes: "192.0.2.250/31 192.0.2.252/30"},
		{name: "ipv6", in: "2001:db8::1", first: "2001:db8::1", last: "2001:db8::1", count: 1, prefixes: "2001:db8::1/128"},
		{name: "mapped", in: "::ffff:192.0.2.1", first: "192.0.2.1", last: "192.0.2.1", count: 1, prefixes: "192.0.2.1/32"},
		{name: "host_bits", in: "192.0.2.1/24", wantErr: "host bits set"},
		{name: "reversed", in: "192.0.2.20-192.0.2.10", wantErr: "before its start"},
		{name: "hostname", in: "router.example.org", wantErr: "host names are not accepted"},
		{name: "too_big", in: "10.0.0.0/8", wantErr: "more than"},
		{name: "bad_short_end", in: "192.0.2.1-300", wantErr: "end of range"},
		{name: "empty", in: "  ", wantErr: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := ParseSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec(%q) error %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ps []string
			for _, p := range sp.Prefixes() {
				ps = append(ps, p.String())
			}
			if sp.First.String() != tc.first || sp.Last.String() != tc.last || sp.Count() != tc.count || strings.Join(ps, " ") != tc.prefixes {
				t.Errorf("got %s-%s count %d prefixes %q; want %s-%s %d %q", sp.First, sp.Last, sp.Count(), ps, tc.first, tc.last, tc.count, tc.prefixes)
			}
		})
	}
	if _, err := ParseSpec("10.0.0.0/8"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

func TestScope(t *testing.T) {
	s := NewScope(netip.MustParsePrefix("192.0.2.0/24")).WithAddr(netip.MustParseAddr("2001:db8::53"))
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.7", true},
		{"::ffff:192.0.2.7", true},
		{"198.51.100.1", false},
		{"2001:db8::53", true},
		{"2001:db8::54", false},
	}
	for _, tc := range tests {
		if got := s.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if (Scope{}).Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero scope allows something")
	}
}

func TestParseList(t *testing.T) {
	specs, err := ParseList(strings.NewReader("# routers\n192.0.2.1\n\n198.51.100.0/31 # pair\n"))
	if err != nil || len(specs) != 2 {
		t.Fatalf("ParseList: %v %v", specs, err)
	}
	if _, err := ParseList(strings.NewReader("192.0.2.1\nnope\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v does not name line 2", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.0/24", "192.0.2.1-20", "2001:db8::/120", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		if sp.First.Compare(sp.Last) > 0 || sp.Count() > MaxExpand {
			t.Fatalf("%q: bad spec %+v", s, sp)
		}
		for _, p := range sp.Prefixes() {
			if !p.IsValid() {
				t.Fatalf("%q: invalid prefix", s)
			}
		}
	})
}
