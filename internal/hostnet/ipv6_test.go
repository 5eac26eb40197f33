// SPDX-License-Identifier: Apache-2.0

package hostnet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Lines of /proc/net/if_inet6 and /proc/net/ipv6_route as a laptop's
// kernel writes them (addresses rewritten to 2001:db8::/32).
const (
	linkLocal     = "fe800000000000000000000000000002 02 40 20 80     eth0"
	linkLocalDAD  = "fe800000000000000000000000000002 02 40 20 c0     eth0"
	slaacAddr     = "20010db8000000000000000000000010 02 40 00 00     eth0"
	staticAddr    = "20010db8000000000000000000000010 02 40 00 80     eth0"
	raDefault     = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003     eth0"
	staticDefault = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0"
	linkRoute     = "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0"
	loReject      = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo"
)

func TestIPv6LinkState(t *testing.T) {
	conf := func(acceptRA, forwarding string) []envOpt {
		return []envOpt{file(procIPv6Conf+"eth0/accept_ra", acceptRA), file(procIPv6Conf+"eth0/forwarding", forwarding)}
	}
	tests := []struct {
		name    string
		opts    []envOpt
		want    IPv6Link
		wantErr bool
	}{
		{
			// The campaign's LANs: IPv6 on the laptop, no router
			// advertising. Nothing learned.
			name: "ipv4_only_lan",
			opts: append(conf("1", "0"), file(ProcIPv6RoutePath, linkRoute, loReject), file(ProcIfInet6Path, linkLocal)),
			want: IPv6Link{Interface: "eth0", AcceptRA: true},
		},
		{
			name: "router_advertised_default_route",
			opts: append(conf("1", "0"), file(ProcIPv6RoutePath, linkRoute, raDefault, loReject), file(ProcIfInet6Path, linkLocal)),
			want: IPv6Link{Interface: "eth0", AcceptRA: true, RALearned: true},
		},
		{
			// An RA with a prefix and router lifetime 0: an address,
			// no default route.
			name: "slaac_address_only",
			opts: append(conf("1", "0"), file(ProcIPv6RoutePath, linkRoute), file(ProcIfInet6Path, linkLocal, slaacAddr)),
			want: IPv6Link{Interface: "eth0", AcceptRA: true, RALearned: true},
		},
		{
			// The lab's IPv6 client: static address and route,
			// accept_ra 0: the kernel learns nothing either way.
			name: "static_ipv6_ignoring_ras",
			opts: append(conf("0", "0"), file(ProcIPv6RoutePath, linkRoute, staticDefault), file(ProcIfInet6Path, linkLocal, staticAddr)),
			want: IPv6Link{Interface: "eth0"},
		},
		{
			name: "forwarding_host_ignores_ras",
			opts: append(conf("1", "1"), file(ProcIPv6RoutePath, linkRoute), file(ProcIfInet6Path, linkLocal)),
			want: IPv6Link{Interface: "eth0"},
		},
		{
			name: "forwarding_with_accept_ra_2",
			opts: append(conf("2", "1"), file(ProcIPv6RoutePath, linkRoute), file(ProcIfInet6Path, linkLocal)),
			want: IPv6Link{Interface: "eth0", AcceptRA: true},
		},
		{
			name: "link_just_up",
			opts: append(conf("1", "0"), file(ProcIPv6RoutePath, linkRoute), file(ProcIfInet6Path, linkLocalDAD)),
			want: IPv6Link{Interface: "eth0", AcceptRA: true, Tentative: true},
		},
		{
			name:    "no_ipv6",
			opts:    []envOpt{file(ProcIPv6RoutePath, loReject)},
			wantErr: true,
		},
		{
			name:    "garbage_setting",
			opts:    append(conf("yes", "0"), file(ProcIPv6RoutePath, linkRoute), file(ProcIfInet6Path, linkLocal)),
			wantErr: true,
		},
		{
			name:    "not_linux",
			opts:    append(conf("1", "0"), goos("darwin")),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IPv6LinkState(env(tt.opts...), "eth0")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "../eth0", "eth0/x", ".."} {
		if _, err := IPv6LinkState(env(conf("1", "0")...), bad); err == nil {
			t.Errorf("interface %q accepted", bad)
		}
	}
}

func FuzzParseProcNetIfInet6(f *testing.F) {
	f.Add([]byte(linkLocal + "\n" + slaacAddr + "\n"))
	f.Add([]byte("00000000000000000000000000000001 01 80 10 80       lo\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := ParseProcNetIfInet6(b)
		if err != nil {
			return
		}
		for _, a := range as {
			if !a.Addr.Is6() || a.Prefix < 0 || a.Prefix > 128 || a.Interface == "" {
				t.Fatalf("bad entry %+v from %q", a, b)
			}
		}
	})
}

func FuzzParseRALearnedRoutes(f *testing.F) {
	f.Add([]byte(raDefault + "\n" + loReject + "\n"))
	f.Add([]byte(staticDefault + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseRALearnedRoutes(b)
		if err != nil {
			return
		}
		for ifname := range m {
			if ifname == "" {
				t.Fatalf("empty interface from %q", b)
			}
		}
	})
}
