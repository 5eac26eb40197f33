// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// dhcpTimeout bounds one DHCP exchange: with dnsmasq's no-ping a lease takes
// about 0.1 s; udhcpc gives up after 5 discovers, 1 s apart.
const dhcpTimeout = 10 * time.Second

// udhcpcScript is the client's DHCP script. It records the lease to
// $RW_LEASE_OUT and configures the address and default route; it never
// touches /etc/resolv.conf (udhcpc's default script would rewrite it).
const udhcpcScript = `#!/bin/sh
# routerwatch lab: udhcpc script. Records the lease; never writes resolv.conf.
case "$1" in
bound|renew)
	out=${RW_LEASE_OUT:?}
	{
		echo "event=$1"
		echo "interface=$interface"
		echo "ip=$ip"
		echo "mask=$mask"
		echo "router=$router"
		echo "dns=$dns"
		echo "serverid=$serverid"
		echo "lease=$lease"
		echo "domain=$domain"
	} > "$out.tmp" && mv "$out.tmp" "$out"
	ip addr replace "$ip/${mask:-24}" dev "$interface"
	if [ -n "$router" ] && ! ip route show default | grep -q .; then
		ip route add default via "${router%% *}" dev "$interface"
	fi
	;;
esac
exit 0
`

// Lease is what a DHCP client received.
type Lease struct {
	Addr     netip.Prefix
	Router   netip.Addr
	DNS      []netip.Addr // option 6, in order: DNS[0] is the primary
	ServerID netip.Addr
	Duration time.Duration
	Domain   string
}

// DHCP runs a DHCP client (busybox udhcpc, with the lab's own script) in the
// client's namespace and returns the lease. The client configures the
// leased address, as a laptop would.
func (l *Lab) DHCP(ctx context.Context) (Lease, error) {
	if err := osDepEnv.checkPrograms([]string{"udhcpc"}); err != nil {
		return Lease{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, dhcpTimeout)
	defer cancel()
	script := filepath.Join(l.dir, "udhcpc.sh")
	if err := os.WriteFile(script, []byte(udhcpcScript), 0o755); err != nil {
		return Lease{}, fmt.Errorf("lab: %w", err)
	}
	out, err := os.CreateTemp(l.dir, "lease-*")
	if err != nil {
		return Lease{}, fmt.Errorf("lab: %w", err)
	}
	out.Close()
	defer os.Remove(out.Name())
	// -q: quit once bound; -n: fail if no lease; -f: foreground.
	cmd := l.Command(ctx, Client, "udhcpc", "-i", clientIf, "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", script)
	cmd.Env = append(l.daemonEnv(nil), "RW_LEASE_OUT="+out.Name())
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return Lease{}, fmt.Errorf("lab: udhcpc: %w: %s", err, strings.TrimSpace(log.String()))
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return Lease{}, fmt.Errorf("lab: udhcpc: %w", err)
	}
	return parseLease(b)
}

// parseLease parses what udhcpcScript records. A sample:
//
//	event=bound
//	interface=eth0
//	ip=10.77.0.123
//	mask=24
//	router=10.77.0.1
//	dns=203.0.113.66 198.51.100.53
//	serverid=10.77.0.1
//	lease=3600
//	domain=
func parseLease(b []byte) (Lease, error) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	var l Lease
	ip, err := netip.ParseAddr(kv["ip"])
	if err != nil {
		return Lease{}, errors.New("lab: lease: no address")
	}
	bits, err := strconv.Atoi(kv["mask"])
	if err != nil {
		bits = 24
	}
	// A mask the address family cannot hold would make an invalid prefix
	// that later code treats as "no address"; say what was wrong instead.
	if bits < 0 || bits > ip.BitLen() {
		return Lease{}, fmt.Errorf("lab: lease: mask %q does not fit %s", kv["mask"], ip)
	}
	l.Addr = netip.PrefixFrom(ip, bits)
	if f := strings.Fields(kv["router"]); len(f) > 0 {
		l.Router, _ = netip.ParseAddr(f[0])
	}
	for _, d := range strings.Fields(kv["dns"]) {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return Lease{}, fmt.Errorf("lab: lease: dns %q: %w", d, err)
		}
		l.DNS = append(l.DNS, a)
	}
	l.ServerID, _ = netip.ParseAddr(kv["serverid"])
	if s, err := strconv.Atoi(kv["lease"]); err == nil {
		l.Duration = time.Duration(s) * time.Second
	}
	l.Domain = kv["domain"]
	return l, nil
}
