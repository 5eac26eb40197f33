// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"crypto"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Files of the signed zone in the lab directory.
const (
	zoneFile         = "corp.test.zone.signed"   // served by nsd
	trustAnchorFile  = "corp.test.ta"            // the KSK, trusted by the lab's resolvers
	unsignedZoneFile = "corp.test.zone.unsigned" // the attacker's copy (attacker-auth)
)

// zoneTTL is the TTL of every record in corp.test (and the SOA minimum).
const zoneTTL = 300

// signatureValidity bounds the zone's RRSIGs, like certLifetime.
const signatureValidity = 7 * 24 * time.Hour

// writeSignedZone builds corp.test (SOA, NS, the records of Records under
// it), signs it with fresh ECDSA P-256 keys (a KSK for the DNSKEY set, a ZSK
// for the rest, NSEC for authenticated denial) and writes the zone file for
// nsd and the KSK as the resolvers' trust anchor. Signing in Go takes a few
// milliseconds, against about 0.1 s for dnssec-keygen + dnssec-signzone.
func writeSignedZone(dir string, now time.Time) error {
	origin := SignedZone
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: zoneTTL}
	}
	auth, _ := roleByName("isp.auth")
	ns1 := "ns1." + origin
	rrs := []dns.RR{
		&dns.SOA{Hdr: hdr(origin, dns.TypeSOA), Ns: ns1, Mbox: "hostmaster." + origin,
			Serial: uint32(now.Unix()), Refresh: 3600, Retry: 600, Expire: 86400, Minttl: zoneTTL},
		&dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: ns1},
		&dns.A{Hdr: hdr(ns1, dns.TypeA), A: auth.addr.AsSlice()},
	}
	for _, r := range records {
		if dns.IsSubDomain(origin, dns.Fqdn(r.Name)) {
			rrs = append(rrs, &dns.A{Hdr: hdr(dns.Fqdn(r.Name), dns.TypeA), A: r.Addr.AsSlice()})
		}
	}

	ksk := &dns.DNSKEY{Hdr: hdr(origin, dns.TypeDNSKEY), Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	kskPriv, err := ksk.Generate(256)
	if err != nil {
		return fmt.Errorf("lab: dnssec: %w", err)
	}
	zsk := &dns.DNSKEY{Hdr: hdr(origin, dns.TypeDNSKEY), Flags: 256, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	zskPriv, err := zsk.Generate(256)
	if err != nil {
		return fmt.Errorf("lab: dnssec: %w", err)
	}
	rrs = append(rrs, ksk, zsk)
	rrs = append(rrs, nsecChain(rrs)...)

	// Group into RRsets in a stable order and sign each.
	type key struct {
		name string
		t    uint16
	}
	sets := map[key][]dns.RR{}
	var order []key
	for _, rr := range rrs {
		k := key{rr.Header().Name, rr.Header().Rrtype}
		if _, ok := sets[k]; !ok {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	var out strings.Builder
	for _, k := range order {
		set := sets[k]
		signer, priv := zsk, zskPriv
		if k.t == dns.TypeDNSKEY {
			signer, priv = ksk, kskPriv
		}
		sig := &dns.RRSIG{
			Hdr:        hdr(k.name, dns.TypeRRSIG),
			Algorithm:  signer.Algorithm,
			Expiration: uint32(now.Add(signatureValidity).Unix()),
			Inception:  uint32(now.Add(-time.Hour).Unix()),
			KeyTag:     signer.KeyTag(),
			SignerName: origin,
		}
		if err := sig.Sign(priv.(crypto.Signer), set); err != nil {
			return fmt.Errorf("lab: dnssec: sign %s %s: %w", k.name, dns.TypeToString[k.t], err)
		}
		for _, rr := range set {
			out.WriteString(rr.String() + "\n")
		}
		out.WriteString(sig.String() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, zoneFile), []byte(out.String()), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, trustAnchorFile), []byte(ksk.String()+"\n"), 0o644)
}

// nsecChain returns the NSEC records for the names of rrs, in canonical
// order (RFC 4034 section 6.1), the last pointing back to the apex.
func nsecChain(rrs []dns.RR) []dns.RR {
	types := map[string][]uint16{}
	for _, rr := range rrs {
		n := rr.Header().Name
		if !slices.Contains(types[n], rr.Header().Rrtype) {
			types[n] = append(types[n], rr.Header().Rrtype)
		}
	}
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	slices.SortFunc(names, canonicalCompare)
	var out []dns.RR
	for i, n := range names {
		bitmap := append(slices.Clone(types[n]), dns.TypeRRSIG, dns.TypeNSEC)
		slices.Sort(bitmap)
		out = append(out, &dns.NSEC{
			Hdr:        dns.RR_Header{Name: n, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: zoneTTL},
			NextDomain: names[(i+1)%len(names)],
			TypeBitMap: bitmap,
		})
	}
	return out
}

// canonicalCompare orders lowercase names by their labels, rightmost first.
func canonicalCompare(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// writeUnsignedZone writes the attacker's copy of corp.test: the same
// records as the signed zone, except that names under hijack rules point
// at their targets, and no DNSKEY, RRSIG or NSEC. A resolver that takes
// corp.test from this copy hands out answers a validator rejects as bogus
// (the trust anchor says the zone is signed).
func writeUnsignedZone(dir string, now time.Time, hijack []HijackRule) error {
	origin := SignedZone
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: zoneTTL}
	}
	ns1 := "ns1." + origin
	rrs := []dns.RR{
		&dns.SOA{Hdr: hdr(origin, dns.TypeSOA), Ns: ns1, Mbox: "hostmaster." + origin,
			Serial: uint32(now.Unix()), Refresh: 3600, Retry: 600, Expire: 86400, Minttl: zoneTTL},
		&dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: ns1},
		&dns.A{Hdr: hdr(ns1, dns.TypeA), A: RoleAddr("attacker.auth").AsSlice()},
	}
	target := func(name string) (netip.Addr, bool) {
		for _, h := range hijack {
			for _, n := range h.Names {
				if dns.IsSubDomain(dns.Fqdn(n), name) {
					return resolve(h.To), true
				}
			}
		}
		return netip.Addr{}, false
	}
	for _, r := range records {
		name := dns.Fqdn(r.Name)
		if !dns.IsSubDomain(origin, name) {
			continue
		}
		addr := r.Addr
		if to, ok := target(name); ok {
			addr = to
		}
		rrs = append(rrs, &dns.A{Hdr: hdr(name, dns.TypeA), A: addr.AsSlice()})
	}
	// Hijacked names the real zone lacks are added.
	for _, h := range hijack {
		for _, n := range h.Names {
			name := dns.Fqdn(n)
			known := slices.ContainsFunc(records, func(r Record) bool { return dns.Fqdn(r.Name) == name })
			if dns.IsSubDomain(origin, name) && !known {
				rrs = append(rrs, &dns.A{Hdr: hdr(name, dns.TypeA), A: resolve(h.To).AsSlice()})
			}
		}
	}
	var out strings.Builder
	for _, rr := range rrs {
		out.WriteString(rr.String() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, unsignedZoneFile), []byte(out.String()), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
