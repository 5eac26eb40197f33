// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
)

// Where iproute2 keeps named namespaces and their private /etc files.
const (
	netnsRunDir = "/run/netns"
	netnsEtcDir = "/etc/netns"
)

// runIP runs one iproute2 command (from the root namespace; every command
// names a lab namespace with -n or operates on lab namespaces only).
func runIP(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ipBatch runs iproute2 commands inside namespace ns in one process
// (`ip -n NS -batch -`), so building a host costs one process, not twenty.
func ipBatch(ctx context.Context, ns string, lines []string) error {
	cmd := exec.CommandContext(ctx, "ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %w: %s", ns, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// hostLinks returns the iproute2 batch that configures host h once its
// veths exist: addresses, links up, routes. Nothing here touches the root
// namespace, and no default route leaves the lab: the client's goes to the
// router, the router's to the ISP, and the ISP (the dead end) has none.
//
// With IPv6 (scenario ipv6) every address, link-local ones included, is
// configured statically with nodad: duplicate address detection would
// leave addresses tentative (unusable) for a second or more, and the
// kernel's own link-local address (addrgenmode none) would not be the
// fe80::1 the router's advertisements are documented to come from.
func (l *Lab) hostLinks(h Host) []string {
	lan := func(n string) string { r, _ := roleByName(n); return r.addr.String() }
	v6 := l.scenario != nil && l.scenario.IPv6
	// link6 prepares an interface for static IPv6 (before it goes up).
	link6 := func(ifname, linkLocal string, global ...string) []string {
		if !v6 {
			return nil
		}
		out := []string{"link set " + ifname + " addrgenmode none", "addr add " + linkLocal + "/64 dev " + ifname + " nodad"}
		for _, g := range global {
			out = append(out, fmt.Sprintf("addr add %s/64 dev %s nodad", lan(g), ifname))
		}
		return out
	}
	route6 := func(line string) []string {
		if !v6 {
			return nil
		}
		return []string{line}
	}
	var lines []string
	switch h {
	case Client:
		lines = append(lines, "link set lo up")
		lines = append(lines, link6(clientIf, "fe80::10", "client.lan6")...)
		lines = append(lines, "link set "+clientIf+" up")
		if l.scenario == nil || !l.scenario.Client.DHCPOnly {
			lines = append(lines,
				fmt.Sprintf("addr add %s/24 dev %s", lan("client.lan"), clientIf),
				fmt.Sprintf("route add default via %s dev %s", lan("router.lan"), clientIf))
		}
		lines = append(lines, route6(fmt.Sprintf("route add ::/0 via %s dev %s", lan("router.lan6"), clientIf))...)
	case Router:
		lines = append(lines, "link set lo up",
			fmt.Sprintf("addr add %s/24 dev %s", lan("router.lan"), routerLANIf),
			fmt.Sprintf("addr add %s/24 dev %s", lan("router.wan"), routerWANIf))
		lines = append(lines, link6(routerLANIf, "fe80::1", "router.lan6")...)
		lines = append(lines, link6(routerWANIf, "fe80::2", "router.wan6")...)
		lines = append(lines,
			"link set "+routerLANIf+" up",
			"link set "+routerWANIf+" up",
			fmt.Sprintf("route add default via %s dev %s", lan("isp.wan"), routerWANIf))
		lines = append(lines, route6(fmt.Sprintf("route add ::/0 via %s dev %s", lan("isp.wan6"), routerWANIf))...)
	default:
		lines = append(lines, "link set lo up",
			fmt.Sprintf("addr add %s/24 dev %s", lan("isp.wan"), ispIf),
			fmt.Sprintf("addr add %s/24 dev %s", lan("isp.resolver"), ispIf))
		lines = append(lines, link6(ispIf, "fe80::1", "isp.wan6")...)
		lines = append(lines,
			"link set "+ispIf+" up",
			// No NAT on the router: the ISP routes the LAN back to it.
			fmt.Sprintf("route add %s via %s dev %s", LANPrefix, lan("router.wan"), ispIf))
		lines = append(lines, route6(fmt.Sprintf("route add %s via %s dev %s", LAN6Prefix, lan("router.wan6"), ispIf))...)
		for _, a := range ispLoAddrs(v6) {
			bits := 32
			if a.Is6() {
				bits = 128
			}
			lines = append(lines, fmt.Sprintf("addr add %s/%d dev lo", a, bits))
		}
	}
	return lines
}

// resolvConf is the private /etc/resolv.conf of a host: `ip netns exec`
// bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf, so nothing
// inside a namespace reads or writes the host's resolver configuration.
func (l *Lab) resolvConf(h Host) string {
	var ns []string
	switch {
	case h == Client && l.scenario != nil && len(l.scenario.DHCP.DNS) > 0:
		for _, a := range l.scenario.DHCP.DNS {
			ns = append(ns, resolve(a).String())
		}
	case h == Client || h == Router:
		ns = []string{resolve("isp.resolver").String()}
	default:
		ns = []string{"127.0.0.1"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# routerwatch lab %s, host %s: private to namespace %s\n", l.st.Name, h, l.st.Namespaces[h])
	for _, a := range ns {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	return b.String()
}

// createNetwork makes the namespaces, their /etc/netns files, the two veth
// pairs (created directly inside lab namespaces: no interface ever exists
// in the root namespace) and configures each host.
func (l *Lab) createNetwork(ctx context.Context) error {
	// Record everything before creating it.
	l.mu.Lock()
	for _, h := range Hosts() {
		l.st.Namespaces[h] = l.nsName(h)
		l.st.NetnsDirs = append(l.st.NetnsDirs, filepath.Join(netnsEtcDir, l.nsName(h)))
	}
	err := l.st.save(l.dir)
	l.mu.Unlock()
	if err != nil {
		return err
	}

	errs := make(chan error, len(Hosts()))
	for _, h := range Hosts() {
		go func() {
			ns := l.nsName(h)
			if _, err := os.Stat(filepath.Join(netnsRunDir, ns)); err == nil {
				errs <- fmt.Errorf("lab: namespace %s already exists", ns)
				return
			}
			dir := filepath.Join(netnsEtcDir, ns)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs <- fmt.Errorf("lab: %w", err)
				return
			}
			if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(l.resolvConf(h)), 0o644); err != nil {
				errs <- fmt.Errorf("lab: %w", err)
				return
			}
			errs <- runIP(ctx, "netns", "add", ns)
		}()
	}
	var all []error
	for range Hosts() {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}

	cli, rtr, isp := l.nsName(Client), l.nsName(Router), l.nsName(ISP)
	links := [][]string{
		{"-n", rtr, "link", "add", routerLANIf, "type", "veth", "peer", "name", clientIf, "netns", cli},
		{"-n", rtr, "link", "add", routerWANIf, "type", "veth", "peer", "name", ispIf, "netns", isp},
	}
	for _, args := range links {
		go func() { errs <- runIP(ctx, args...) }()
	}
	all = all[:0]
	for range links {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}

	for _, h := range Hosts() {
		go func() { errs <- ipBatch(ctx, l.nsName(h), l.hostLinks(h)) }()
	}
	all = all[:0]
	for range Hosts() {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	// Settings inside the lab's namespaces only (a /proc/sys/net file is
	// the namespace's of the thread that opens it). The router forwards
	// between LAN and WAN, and answers every probe of a closed port with
	// an ICMP port unreachable: without a rate limit, exposure scans of
	// UDP ports see "closed" at once instead of a timeout.
	sysctls := map[Host][][2]string{
		Router: {{"ipv4/ip_forward", "1"}, {"ipv4/icmp_ratelimit", "0"}},
	}
	if l.scenario != nil && l.scenario.IPv6 {
		sysctls[Router] = append(sysctls[Router], [2]string{"ipv6/conf/all/forwarding", "1"}, [2]string{"ipv6/icmp/ratelimit", "0"})
		// The client's IPv6 is static: the kernel must not also configure
		// itself from the router's advertisements (SLAAC address, default
		// route). Checkers read the RAs themselves (Lab.RouterAdvertisement).
		sysctls[Client] = [][2]string{{"ipv6/conf/" + clientIf + "/accept_ra", "0"}}
	}
	for _, h := range Hosts() {
		if len(sysctls[h]) == 0 {
			continue
		}
		err := l.Do(h, func() error {
			for _, kv := range sysctls[h] {
				if err := os.WriteFile("/proc/sys/net/"+kv[0], []byte(kv[1]+"\n"), 0o644); err != nil {
					return fmt.Errorf("lab: sysctl net/%s: %w", kv[0], err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Do runs fn on an OS thread switched into host's network namespace, then
// switches the thread back. Sockets fn creates stay in that namespace after
// Do returns, so Do is how Go code (tests, probes with an injected dialer)
// reaches lab addresses without spawning a process. fn must not start
// goroutines that expect to inherit the namespace: they run on other threads.
func (l *Lab) Do(host Host, fn func() error) error {
	ns := l.Namespace(host)
	if ns == "" {
		return fmt.Errorf("lab: unknown host %q", host)
	}
	target, err := netns.GetFromPath(filepath.Join(netnsRunDir, ns))
	if err != nil {
		return fmt.Errorf("lab: namespace %s: %w", ns, err)
	}
	defer target.Close()

	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: enter %s: %w", ns, err)
	}
	fnErr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the goroutine's exit then ends the thread
		// instead of returning it, still inside the lab, to the scheduler.
		return errors.Join(fnErr, fmt.Errorf("lab: leave %s: %w", ns, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

// DialContext connects from inside host's namespace, like net.Dialer's
// DialContext (address must be an IP literal and port: nothing is resolved).
func (l *Lab) DialContext(ctx context.Context, host Host, network, address string) (net.Conn, error) {
	var c net.Conn
	err := l.Do(host, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Dialer returns DialContext bound to host, in the shape http.Transport and
// the project's injected dialers take.
func (l *Lab) Dialer(host Host) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		return l.DialContext(ctx, host, network, address)
	}
}

// ListenPacket opens a packet socket inside host's namespace.
func (l *Lab) ListenPacket(ctx context.Context, host Host, network, address string) (net.PacketConn, error) {
	var c net.PacketConn
	err := l.Do(host, func() error {
		var lc net.ListenConfig
		var err error
		c, err = lc.ListenPacket(ctx, network, address)
		return err
	})
	return c, err
}
