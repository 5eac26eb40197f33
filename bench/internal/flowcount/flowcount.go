// SPDX-License-Identifier: Apache-2.0

// Package flowcount is what the lab benchmarks share: the nftables table
// in the router's namespace that counts the new flows a tool sends into
// the lab (SYNs and UDP datagrams arriving on the LAN side), reading and
// resetting those counters, and the median of repeated runs. It is used
// by programs under bench/ only, never by the binary.
package flowcount

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/routerwatch/routerwatch/internal/lab"
)

// Table is the nftables table (inet rwcount) to load into the router's
// namespace beside the benchmark's own rules: it counts, before any
// NAT, each SYN without ACK and each UDP datagram (DHCP aside) arriving
// from the LAN.
const Table = `table inet rwcount {
	counter flows_syn { }
	counter flows_udp { }
	chain ingress {
		type filter hook prerouting priority -300; policy accept;
		iifname "lan0" tcp flags & (syn | ack) == syn counter name "flows_syn"
		iifname "lan0" udp dport != 67 counter name "flows_udp"
	}
}
`

var packetsRE = regexp.MustCompile(`packets (\d+)`)

// Reset returns the flows counted at the router since the last call (or
// since Table was loaded) and sets the counters to zero.
func Reset(ctx context.Context, l *lab.Lab) (int, error) {
	total := 0
	for _, name := range []string{"flows_syn", "flows_udp"} {
		out, err := l.Command(ctx, lab.Router, "nft", "reset", "counter", "inet", "rwcount", name).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("nft reset counter: %w: %s", err, out)
		}
		m := packetsRE.FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("nft reset counter: %q", out)
		}
		n, err := strconv.Atoi(string(m[1]))
		if err != nil {
			return 0, fmt.Errorf("nft reset counter: %q: %w", m[1], err)
		}
		total += n
	}
	return total, nil
}

// Median is the median of xs (0 for none); xs is left as it was.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
