// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/finding"
)

var (
	t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(5 * time.Minute)

	router = Device{Address: "192.0.2.1", Label: "office router"}
	other  = Device{Address: "192.0.2.10"}
)

func rogueDNS(sev finding.Severity) Problem {
	return Problem{
		Device: router, ID: "dns.resolver_hijacked@203.0.113.7", CheckID: "dns.resolver_hijacked",
		Subject: "resolver 203.0.113.7", Severity: sev,
		Title:  "DHCP hands out a DNS server that lies about login names",
		Detail: "DHCP DNS primary changed from 192.0.2.1 to 203.0.113.7; the resolver answers login.example.com with 203.0.113.66.",
	}
}

func telnet(d Device) Problem {
	return Problem{Device: d, ID: "exposure.telnet_open@" + d.Address, CheckID: "exposure.telnet_open",
		Severity: finding.SeverityHigh, Title: "Telnet answers on the LAN"}
}

func offline(d Device) Problem {
	return Problem{Device: d, ID: "watch.device_unreachable", CheckID: "watch.device_unreachable",
		Severity: finding.SeverityMedium, Title: "The router does not answer"}
}

func openAt(p Problem, since time.Time) Open {
	return Open{Problem: p, Key: p.Key(), Since: since}
}

// brief is what a test compares of an event: the rest is covered by the
// JSON golden test.
type brief struct {
	Kind     Kind
	Key      string
	Severity finding.Severity
	Previous string
	Since    time.Time
}

func briefs(evs []Event) []brief {
	var out []brief
	for _, e := range evs {
		b := brief{Kind: e.Kind, Key: e.Key, Severity: e.Severity, Since: e.Since}
		if e.PreviousSeverity != nil {
			b.Previous = e.PreviousSeverity.String()
		}
		out = append(out, b)
	}
	return out
}

func TestTrack(t *testing.T) {
	high, crit := rogueDNS(finding.SeverityHigh), rogueDNS(finding.SeverityCritical)
	detailChanged := high
	detailChanged.Detail = "the resolver now also lies about mail.example.com"
	tests := []struct {
		name       string
		prev       []Open
		cycle      Cycle
		wantEvents []brief
		wantOpen   []Open
	}{
		{
			name:  "nothing open, nothing seen: nothing",
			cycle: Cycle{},
		},
		{
			name:       "new problem is raised",
			cycle:      Cycle{Problems: []Problem{high}},
			wantEvents: []brief{{KindRaised, high.Key(), finding.SeverityHigh, "", t1}},
			wantOpen:   []Open{openAt(high, t1)},
		},
		{
			name:     "open problem seen again raises nothing",
			prev:     []Open{openAt(high, t0)},
			cycle:    Cycle{Problems: []Problem{high}},
			wantOpen: []Open{openAt(high, t0)},
		},
		{
			name:     "detail change alone raises nothing but is kept",
			prev:     []Open{openAt(high, t0)},
			cycle:    Cycle{Problems: []Problem{detailChanged}},
			wantOpen: []Open{openAt(detailChanged, t0)},
		},
		{
			name:       "severity change is one changed event, since kept",
			prev:       []Open{openAt(high, t0)},
			cycle:      Cycle{Problems: []Problem{crit}},
			wantEvents: []brief{{KindChanged, high.Key(), finding.SeverityCritical, "high", t0}},
			wantOpen:   []Open{openAt(crit, t0)},
		},
		{
			name:       "problem gone is resolved",
			prev:       []Open{openAt(high, t0)},
			cycle:      Cycle{},
			wantEvents: []brief{{KindResolved, high.Key(), finding.SeverityHigh, "", t0}},
		},
		{
			name:     "device skipped: its open problem stays open, nothing sent",
			prev:     []Open{openAt(high, t0)},
			cycle:    Cycle{Skipped: []Scope{{Device: router.Address}}},
			wantOpen: []Open{openAt(high, t0)},
		},
		{
			name: "router offline: offline raised, DNS problem kept, nothing resolved",
			prev: []Open{openAt(high, t0)},
			cycle: Cycle{
				Problems: []Problem{offline(router)},
				Skipped:  []Scope{{Device: router.Address}},
			},
			wantEvents: []brief{{KindRaised, offline(router).Key(), finding.SeverityMedium, "", t1}},
			wantOpen:   []Open{openAt(high, t0), openAt(offline(router), t1)},
		},
		{
			name:       "router back: offline resolved, DNS problem still open",
			prev:       []Open{openAt(high, t0), openAt(offline(router), t0)},
			cycle:      Cycle{Problems: []Problem{high}},
			wantEvents: []brief{{KindResolved, offline(router).Key(), finding.SeverityMedium, "", t0}},
			wantOpen:   []Open{openAt(high, t0)},
		},
		{
			name: "check skipped covers only that check",
			prev: []Open{openAt(high, t0), openAt(telnet(router), t0)},
			cycle: Cycle{
				Skipped: []Scope{{Device: router.Address, CheckID: "dns.resolver_hijacked"}},
			},
			wantEvents: []brief{{KindResolved, telnet(router).Key(), finding.SeverityHigh, "", t0}},
			wantOpen:   []Open{openAt(high, t0)},
		},
		{
			name:       "skipping one device does not cover another whose address it prefixes",
			prev:       []Open{openAt(telnet(other), t0)},
			cycle:      Cycle{Skipped: []Scope{{Device: router.Address}}},
			wantEvents: []brief{{KindResolved, telnet(other).Key(), finding.SeverityHigh, "", t0}},
		},
		{
			name:       "the same problem twice in a cycle counts once at its highest severity",
			cycle:      Cycle{Problems: []Problem{high, crit, high}},
			wantEvents: []brief{{KindRaised, high.Key(), finding.SeverityCritical, "", t1}},
			wantOpen:   []Open{openAt(crit, t1)},
		},
		{
			name: "mixed: raised in input order, then resolved in key order",
			prev: []Open{openAt(telnet(other), t0), openAt(offline(router), t0)},
			cycle: Cycle{Problems: []Problem{
				telnet(router), high,
			}},
			wantEvents: []brief{
				{KindRaised, telnet(router).Key(), finding.SeverityHigh, "", t1},
				{KindRaised, high.Key(), finding.SeverityHigh, "", t1},
				{KindResolved, offline(router).Key(), finding.SeverityMedium, "", t0},
				{KindResolved, telnet(other).Key(), finding.SeverityHigh, "", t0},
			},
			wantOpen: []Open{openAt(high, t1), openAt(telnet(router), t1)},
		},
		{
			name:     "state stored without its key still matches",
			prev:     []Open{{Problem: high, Since: t0}},
			cycle:    Cycle{Problems: []Problem{high}},
			wantOpen: []Open{openAt(high, t0)},
		},
		{
			name:       "problem without an ID is keyed by check and subject",
			cycle:      Cycle{Problems: []Problem{{Device: router, CheckID: "c", Subject: "s", Title: "x"}}},
			wantEvents: []brief{{KindRaised, "192.0.2.1 c@s", finding.SeverityInfo, "", t1}},
			wantOpen:   []Open{{Problem: Problem{Device: router, CheckID: "c", Subject: "s", Title: "x"}, Key: "192.0.2.1 c@s", Since: t1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prevCopy := append([]Open(nil), tt.prev...)
			next, events := Track(tt.prev, tt.cycle, t1)
			if diff := cmp.Diff(tt.wantEvents, briefs(events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOpen, next); diff != "" {
				t.Errorf("open (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(prevCopy, tt.prev); diff != "" {
				t.Errorf("Track changed its argument:\n%s", diff)
			}
			for _, e := range events {
				if e.SchemaVersion != SchemaVersion || e.ID == "" || !e.Time.Equal(t1) {
					t.Errorf("event %+v: schema version, id or time not set", e)
				}
			}
		})
	}
}

// TestTrackCycles runs the Show of issue 9 through the tracker alone:
// switching the DHCP DNS to the attacker's resolver raises exactly once
// over many cycles, an outage in between changes nothing, and switching
// back resolves exactly once.
func TestTrackCycles(t *testing.T) {
	high := rogueDNS(finding.SeverityHigh)
	cycles := []struct {
		cycle Cycle
		want  []Kind
	}{
		{Cycle{}, nil},
		{Cycle{Problems: []Problem{high}}, []Kind{KindRaised}},
		{Cycle{Problems: []Problem{high}}, nil},
		{Cycle{Problems: []Problem{offline(router)}, Skipped: []Scope{{Device: router.Address}}}, []Kind{KindRaised}},
		{Cycle{Problems: []Problem{offline(router)}, Skipped: []Scope{{Device: router.Address}}}, nil},
		{Cycle{Problems: []Problem{high}}, []Kind{KindResolved}}, // the outage
		{Cycle{Problems: []Problem{high}}, nil},
		{Cycle{}, []Kind{KindResolved}}, // the DNS switched back
		{Cycle{}, nil},
	}
	var open []Open
	now := t0
	for i, c := range cycles {
		var events []Event
		open, events = Track(open, c.cycle, now)
		var kinds []Kind
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		if diff := cmp.Diff(c.want, kinds); diff != "" {
			t.Errorf("cycle %d (-want +got):\n%s", i, diff)
		}
		now = now.Add(time.Minute)
	}
}

func TestProblemFromFinding(t *testing.T) {
	f := &finding.Finding{
		ID: "dns.resolver_hijacked@203.0.113.7", CheckID: "dns.resolver_hijacked",
		Subject: "resolver 203.0.113.7 (primary DHCPv4 DNS (eth0))", Status: finding.StatusFail,
		Severity: finding.SeverityHigh, Title: "t", Detail: "d",
		Evidence: []finding.Evidence{{Key: "k", Value: "v"}},
	}
	p := ProblemFromFinding(router, f)
	if p.Key() != "192.0.2.1 dns.resolver_hijacked@203.0.113.7" {
		t.Errorf("key %q: want the device and the finding's stable ID", p.Key())
	}
	// The subject is words and may change its wording between runs
	// (primary becomes secondary); the key must not.
	f.Subject = "resolver 203.0.113.7 (secondary DHCPv4 DNS (eth0))"
	if q := ProblemFromFinding(router, f); q.Key() != p.Key() {
		t.Errorf("key changed with the subject's wording: %q", q.Key())
	}
	if p.Severity != f.Severity || p.Title != "t" || p.Detail != "d" || len(p.Evidence) != 1 {
		t.Errorf("problem %+v", p)
	}
}
