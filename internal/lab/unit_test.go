// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestParseProcAddr(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		// Samples from /proc/net/{tcp,udp,tcp6} on little-endian amd64.
		{name: "ipv4_loopback_dns", in: "0100007F:0035", want: "127.0.0.1:53", ok: true},
		{name: "ipv4_lab_ssh", in: "01004D0A:0016", want: "10.77.0.1:22", ok: true},
		{name: "ipv4_any_dhcp", in: "00000000:0043", want: "0.0.0.0:67", ok: true},
		{name: "ipv6_loopback", in: "00000000000000000000000001000000:0035", want: "[::1]:53", ok: true},
		{name: "no_port", in: "0100007F", ok: false},
		{name: "bad_hex", in: "0100007G:0035", ok: false},
		{name: "short", in: "01007F:0035", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseProcAddr(tt.in)
			if ok != tt.ok {
				t.Fatalf("parseProcAddr(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if ok && got.String() != tt.want {
				t.Errorf("parseProcAddr(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestHasSocket(t *testing.T) {
	socks := map[sock]bool{
		udp("0.0.0.0", 67):   true,
		tcp("10.77.0.1", 22): true,
	}
	tests := []struct {
		name string
		want sock
		has  bool
	}{
		{name: "exact", want: tcp("10.77.0.1", 22), has: true},
		{name: "any_matches_specific", want: tcp("0.0.0.0", 22), has: true},
		{name: "any_udp", want: udp("0.0.0.0", 67), has: true},
		{name: "other_addr", want: tcp("10.77.0.2", 22), has: false},
		{name: "other_proto", want: udp("10.77.0.1", 22), has: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasSocket(socks, tt.want); got != tt.has {
				t.Errorf("hasSocket(%v) = %v, want %v", tt.want, got, tt.has)
			}
		})
	}
}

func TestProcStatSelf(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !alive(os.Getpid(), st.startTime) {
		t.Error("alive(self) = false")
	}
	if alive(os.Getpid(), st.startTime+1) {
		t.Error("alive(self, other start time) = true: a reused PID would be taken for ours")
	}
	if alive(0, 0) || alive(-1, 0) {
		t.Error("alive of PID 0 or -1 = true")
	}
}

func TestParseLease(t *testing.T) {
	in := "event=bound\ninterface=eth0\nip=10.77.0.123\nmask=24\nrouter=10.77.0.1\ndns=203.0.113.66 198.51.100.53\nserverid=10.77.0.1\nlease=3600\ndomain=\n"
	got, err := parseLease([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{
		Addr:     netip.MustParsePrefix("10.77.0.123/24"),
		Router:   netip.MustParseAddr("10.77.0.1"),
		DNS:      []netip.Addr{netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.53")},
		ServerID: netip.MustParseAddr("10.77.0.1"),
		Duration: time.Hour,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("parseLease (-want +got):\n%s", diff)
	}
	if _, err := parseLease([]byte("event=bound\n")); err == nil {
		t.Error("parseLease without ip = nil error")
	}
	if _, err := parseLease([]byte("ip=10.77.0.5\nmask=70\n")); err == nil {
		t.Error("parseLease with a /70 IPv4 mask = nil error")
	}
	if _, err := parseLease([]byte("ip=10.77.0.5\ndns=not-an-ip\n")); err == nil {
		t.Error("parseLease with a bad dns = nil error")
	}
}

func FuzzParseLease(f *testing.F) {
	f.Add([]byte("event=bound\nip=10.77.0.123\nmask=24\nrouter=10.77.0.1\ndns=203.0.113.66 198.51.100.53\nlease=3600\n"))
	f.Add([]byte("ip=::1\nmask=x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLease(b)
		if err == nil && !l.Addr.IsValid() {
			t.Errorf("parseLease(%q) = invalid address and no error", b)
		}
	})
}

func TestSignedZoneValidates(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if err := writeSignedZone(dir, now); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Open(filepath.Join(dir, zoneFile))
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	sets := map[[2]string][]dns.RR{}
	var sigs []*dns.RRSIG
	keys := map[uint16]*dns.DNSKEY{}
	zp := dns.NewZoneParser(zf, SignedZone, zoneFile)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.RRSIG:
			sigs = append(sigs, v)
			continue
		case *dns.DNSKEY:
			keys[v.KeyTag()] = v
		}
		k := [2]string{rr.Header().Name, dns.TypeToString[rr.Header().Rrtype]}
		sets[k] = append(sets[k], rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sigs) != len(sets) {
		t.Errorf("%d RRSIGs for %d RRsets", len(sigs), len(sets))
	}
	for _, sig := range sigs {
		set := sets[[2]string{sig.Hdr.Name, dns.TypeToString[sig.TypeCovered]}]
		key := keys[sig.KeyTag]
		if key == nil {
			t.Errorf("RRSIG %s %s: no DNSKEY with tag %d", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], sig.KeyTag)
			continue
		}
		if err := sig.Verify(key, set); err != nil {
			t.Errorf("RRSIG %s %s does not verify: %v", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], err)
		}
		if !sig.ValidityPeriod(now) {
			t.Errorf("RRSIG %s %s is not valid now", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered])
		}
	}
	// The trust anchor is the KSK that signs the DNSKEY set.
	ta, err := os.ReadFile(filepath.Join(dir, trustAnchorFile))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dns.NewRR(string(ta))
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := rr.(*dns.DNSKEY); !ok || k.Flags != 257 {
		t.Errorf("trust anchor %q is not a KSK DNSKEY", ta)
	}
	// NSEC chain: canonical order, closed loop.
	var chain []string
	for name := SignedZone; ; {
		n := sets[[2]string{name, "NSEC"}]
		if len(n) != 1 {
			t.Fatalf("no NSEC at %s", name)
		}
		chain = append(chain, name)
		name = n[0].(*dns.NSEC).NextDomain
		if name == SignedZone || len(chain) > 20 {
			break
		}
	}
	want := []string{"corp.test.", "login.corp.test.", "ns1.corp.test.", "www.corp.test."}
	if diff := cmp.Diff(want, chain); diff != "" {
		t.Errorf("NSEC chain (-want +got):\n%s", diff)
	}
}

func TestPKI(t *testing.T) {
	dir := t.TempDir()
	if err := writePKI(dir, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		t.Fatal(err)
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem has no certificate")
	}
	verify := func(file, name string) error {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Verify(x509.VerifyOptions{Roots: pool, DNSName: name})
		return err
	}
	for _, r := range records {
		if err := verify(legitPEM, r.Name); err != nil {
			t.Errorf("legit certificate for %s: %v", r.Name, err)
		}
		var ua x509.UnknownAuthorityError
		if err := verify(aitmCertOnly, r.Name); !errors.As(err, &ua) {
			t.Errorf("AitM certificate for %s verified against the lab CA: err = %v, want unknown authority", r.Name, err)
		}
	}
	if err := verify(trustedPEM, TrustedResolverName); err != nil {
		t.Errorf("trusted resolver certificate: %v", err)
	}
	if err := verify(trustedPEM, RoleAddr("trusted.resolver").String()); err != nil {
		t.Errorf("trusted resolver certificate for its IP: %v", err)
	}
	// Key files are private; certificates are not.
	for file, private := range map[string]bool{caFile: false, trustedKey: true, legitPEM: true, aitmPEM: true} {
		st, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm()&0o077 == 0; got != private {
			t.Errorf("%s mode %v: private = %v, want %v", file, st.Mode().Perm(), got, private)
		}
	}
	// lighttpd reads certificate and key from one file.
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, legitPEM), filepath.Join(dir, legitPEM)); err != nil {
		t.Errorf("legit-https.pem: %v", err)
	}
}

func TestCheckPrograms(t *testing.T) {
	env := depEnv{
		lookPath: func(p string) (string, error) {
			if p == "dnsmasq" || p == "ip" {
				return "/usr/sbin/" + p, nil
			}
			return "", errors.New("not found")
		},
		stat:   func(string) (os.FileInfo, error) { return nil, fs.ErrNotExist },
		getenv: func(string) string { return "" },
	}
	s, err := LoadScenario("apt28")
	if err != nil {
		t.Fatal(err)
	}
	err = env.checkPrograms(s.programs())
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("checkPrograms = %v, want *MissingError", err)
	}
	wantProgs := []string{"dropbear", "dropbearkey", "busybox-static", "lighttpd", "miniupnpd", "snmpd", "unbound", "nsd", "mod_openssl"}
	if diff := cmp.Diff(wantProgs, me.Programs); diff != "" {
		t.Errorf("Programs (-want +got):\n%s", diff)
	}
	want := "lab: missing programs: dropbear, dropbearkey, busybox-static, lighttpd, miniupnpd, snmpd, unbound, nsd, mod_openssl; " +
		"install Debian packages: apt-get install -y --no-install-recommends dropbear-bin lighttpd miniupnpd-nftables snmpd unbound nsd lighttpd-mod-openssl; " +
		"busybox-static (telnetd) conflicts with busybox: run scripts/install-lab-deps, which extracts it to /usr/local/lib/routerwatch/busybox-static (or set ROUTERWATCH_BUSYBOX_STATIC)"
	if got := err.Error(); got != want {
		t.Errorf("error:\n got: %s\nwant: %s", got, want)
	}
	all := depEnv{
		lookPath: func(p string) (string, error) { return "/usr/bin/" + p, nil },
		stat:     func(string) (os.FileInfo, error) { return nil, nil },
		getenv:   func(string) string { return "" },
	}
	if err := all.checkPrograms(s.programs()); err != nil {
		t.Errorf("checkPrograms with everything installed = %v", err)
	}
}

func TestCanonicalCompare(t *testing.T) {
	names := []string{"www.corp.test.", "corp.test.", "a.login.corp.test.", "login.corp.test.", "ns1.corp.test."}
	want := "corp.test. login.corp.test. a.login.corp.test. ns1.corp.test. www.corp.test."
	sorted := append([]string(nil), names...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if canonicalCompare(sorted[j], sorted[i]) < 0 {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	if got := strings.Join(sorted, " "); got != want {
		t.Errorf("canonical order = %s, want %s", got, want)
	}
}

func TestRoles(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r.name] {
			t.Errorf("role %s listed twice", r.name)
		}
		seen[r.name] = true
		if r.service != "" {
			if s, ok := serviceByName(r.service); !ok || s.host != r.host {
				t.Errorf("role %s: service %s does not run on %s", r.name, r.service, r.host)
			}
		}
		in := slices.ContainsFunc([]netip.Prefix{LANPrefix, WANPrefix, InternetPrefix, LAN6Prefix, WAN6Prefix, Internet6Prefix},
			func(p netip.Prefix) bool { return p.Contains(r.addr) })
		if !in {
			t.Errorf("role %s: %s is outside the lab's prefixes", r.name, r.addr)
		}
	}
	scs, err := Scenarios()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		var ready []sock
		for _, sc := range scs {
			if sc.HasService(s.name) {
				ready = append(ready, s.ready(sc)...)
			}
		}
		for _, k := range ready {
			if a := k.addr.Addr(); !a.IsUnspecified() && RoleOf(a) == "" && !InternetPrefix.Contains(a) {
				t.Errorf("service %s waits for %v, which is no role's address", s.name, k)
			}
		}
	}
}

// raSample is a router advertisement as dnsmasq sent it in the ipv6-rdnss
// lab: prefix 2001:db8:77::/64 (L, A), MTU, source link-layer address,
// RDNSS 2001:db8:203::66.
const raSample = "86003597400007080000000000000000" +
	"030440c0ffffffffffffffff0000000020010db8007700000000000000000000" +
	"05010000000005dc" + "0101b6b5b64dcbbf" +
	"19030000ffffffff20010db8020300000000000000000066"

func TestParseRA(t *testing.T) {
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	forever := time.Duration(1<<63 - 1)
	tests := []struct {
		name    string
		in      string
		want    RA
		wantErr string
	}{
		{name: "dnsmasq_sample", in: raSample, want: RA{
			CurHopLimit: 64, RouterLifetime: 1800 * time.Second,
			Prefixes:      []RAPrefix{{Prefix: netip.MustParsePrefix("2001:db8:77::/64"), OnLink: true, Autonomous: true, ValidLifetime: forever, PreferredLifetime: forever}},
			RDNSS:         []netip.Addr{netip.MustParseAddr("2001:db8:203::66")},
			RDNSSLifetime: forever,
		}},
		{name: "two_rdnss_and_dnssl", in: "86000000" + "40c00000" + "0000000000000000" +
			"19050000000004b0" + "20010db8020300000000000000000066" + "20010db8020300000000000000000067" +
			"1f030000000004b0" + "076578616d706c65036f726700" + "000000",
			want: RA{CurHopLimit: 64, Managed: true, Other: true,
				RDNSS:         []netip.Addr{netip.MustParseAddr("2001:db8:203::66"), netip.MustParseAddr("2001:db8:203::67")},
				RDNSSLifetime: 1200 * time.Second, DNSSL: []string{"example.org"}}},
		{name: "not_an_ra", in: "85000000000000000000000000000000", wantErr: "not a router advertisement"},
		{name: "short", in: "860000004000", wantErr: "not a router advertisement"},
		{name: "zero_length_option", in: "86000000400007080000000000000000" + "19000000", wantErr: "truncated option"},
		{name: "option_past_end", in: "86000000400007080000000000000000" + "1903000000000000", wantErr: "truncated option"},
		{name: "rdnss_without_address", in: "86000000400007080000000000000000" + "190100000000ffff", wantErr: "bad RDNSS"},
		{name: "prefix_length_over_128", in: "86000000400007080000000000000000" + "0304ffc0ffffffffffffffff0000000020010db8007700000000000000000000", wantErr: "bad prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRA(mustHex(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRA error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ParseRA (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseRA(f *testing.F) {
	b, _ := hex.DecodeString(raSample)
	f.Add(b)
	f.Add([]byte{134, 0, 0, 0, 64, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 31, 2, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ra, err := ParseRA(b)
		if err != nil {
			return
		}
		for _, a := range ra.RDNSS {
			if !a.Is6() {
				t.Errorf("RDNSS %v is not IPv6", a)
			}
		}
	})
}

func TestRouterwatchExecutable(t *testing.T) {
	exists := func(p string) (os.FileInfo, error) {
		if strings.HasPrefix(p, "/usr/") {
			return nil, nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name     string
		explicit string
		env      string
		self     string
		want     string
		wantErr  string
	}{
		{name: "explicit", explicit: "/usr/bin/rw1", env: "/usr/bin/rw2", self: "/usr/bin/rw3", want: "/usr/bin/rw1"},
		{name: "env", env: "/usr/bin/rw2", self: "/usr/bin/rw3", want: "/usr/bin/rw2"},
		{name: "self", self: "/usr/bin/routerwatch", want: "/usr/bin/routerwatch"},
		{name: "test_binary", self: "/usr/tmp/lab.test", wantErr: "is a Go test binary"},
		{name: "missing", env: "/nonexistent/routerwatch", wantErr: "/nonexistent/routerwatch (ROUTERWATCH_BIN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := depEnv{stat: exists, getenv: func(k string) string {
				if k == ExecutableEnv {
					return tt.env
				}
				return ""
			}, executable: func() (string, error) { return tt.self, nil }}
			got, err := e.routerwatch(tt.explicit)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoExecutable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("routerwatch() error = %v, want ErrNoExecutable with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("routerwatch() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestTPLinkLegacyPages(t *testing.T) {
	// Pages served from a shared folder ($ROUTERWATCH_SHARED), byte for
	// byte, and synthetic ones when there is none (no env, and a working
	// directory with no repository and ../shared above it).
	shared := t.TempDir()
	samples := filepath.Join(shared, "data", "router-samples", "tplink-legacy")
	if err := os.MkdirAll(samples, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range tplinkPages {
		if err := os.WriteFile(filepath.Join(samples, p.sample), []byte(fmt.Sprintf("capture %d\xff", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		env       string
		wantFound bool
		wantPage  string
	}{
		{name: "captured", env: shared, wantFound: true, wantPage: "capture 0\xff"},
		{name: "synthetic", env: "", wantFound: false, wantPage: syntheticPage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(SharedEnv, tt.env)
			t.Chdir(t.TempDir())
			if _, found := TPLinkLegacySamples(); found != tt.wantFound {
				t.Fatalf("TPLinkLegacySamples found = %v, want %v", found, tt.wantFound)
			}
			www, note := t.TempDir(), filepath.Join(t.TempDir(), "note")
			if err := writeTPLinkLegacy(www, note); err != nil {
				t.Fatal(err)
			}
			status, err := os.ReadFile(filepath.Join(www, "userRpm", "StatusRpm.htm"))
			if err != nil || string(status) != tt.wantPage {
				t.Errorf("StatusRpm.htm = %q, %v; want %q", status, err, tt.wantPage)
			}
			pwd, err := os.ReadFile(filepath.Join(www, "loginFs", "dropbear", "dropbearpwd"))
			if err != nil || string(pwd) != DropbearPwdBody || len(pwd) != 56 {
				t.Errorf("dropbearpwd = %q (%d bytes), %v; want the 56-byte credential file", pwd, len(pwd), err)
			}
		})
	}
}
