// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOptsContent(t *testing.T) {
	self := netip.MustParseAddr("10.77.0.1")
	tests := []struct {
		name    string
		servers []netip.Addr
		want    string
	}{
		{name: "router_itself", servers: nil, want: "option:dns-server,10.77.0.1\n"},
		{name: "one", servers: []netip.Addr{netip.MustParseAddr("203.0.113.66")}, want: "option:dns-server,203.0.113.66\n"},
		{name: "two_in_order", servers: []netip.Addr{netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.53")},
			want: "option:dns-server,203.0.113.66,198.51.100.53\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OptsContent(tt.servers, self)
			if !strings.HasPrefix(got, "# ") || !strings.HasSuffix(got, "\n"+tt.want) {
				t.Errorf("OptsContent = %q, want a comment and %q", got, tt.want)
			}
		})
	}
}

// TestSetDNSDnsmasqError: dnsmasq saying it cannot read the file ends the
// change with its words, at once, not after the reload timeout.
func TestSetDNSDnsmasqError(t *testing.T) {
	f := newFakeDnsmasq(t)
	f.signal = func(pid int) error {
		lf, err := os.OpenFile(f.cfg.LogFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer lf.Close()
		_, err = fmt.Fprintf(lf, "dnsmasq[%d]: cannot read %s: Permission denied\n", pid, f.cfg.OptsFile)
		return err
	}
	start := time.Now()
	err := f.SetDNS(t.Context(), []netip.Addr{netip.MustParseAddr("203.0.113.66")})
	if err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Errorf("SetDNS = %v, want dnsmasq's error", err)
	}
	if d := time.Since(start); d > reloadTimeout/2 {
		t.Errorf("took %v", d)
	}
	if err := f.SetDNS(t.Context(), []netip.Addr{netip.MustParseAddr("2001:db8::1")}); err == nil {
		t.Error("an IPv6 server for DHCPv4 option 6 was accepted")
	}
}

// TestLabDnsmasqRefuses: the backend signals only the dnsmasq the state
// records, alive with its recorded start time, in its own namespace.
func TestLabDnsmasqRefuses(t *testing.T) {
	self := os.Getpid()
	start, err := procStartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		state string
	}{
		{name: "no_record", state: `{"processes":[{"service":"ssh","pid":1,"start_time":1}]}`},
		{name: "not_started", state: `{"processes":[{"service":"dhcp","pid":0,"start_time":0}]}`},
		{name: "reused_pid", state: fmt.Sprintf(`{"processes":[{"service":"dhcp","pid":%d,"start_time":%d}]}`, self, start+1)},
		// This test binary, alive with the right start time, is no dnsmasq.
		{name: "not_dnsmasq", state: fmt.Sprintf(`{"processes":[{"service":"dhcp","pid":%d,"start_time":%d}]}`, self, start)},
		{name: "garbage", state: `{"processes":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := DHCPBackend{OptsFile: filepath.Join(dir, "opts"), StateFile: filepath.Join(dir, "state.json"), Service: "dhcp",
				LogFile: filepath.Join(dir, "log"), Self: netip.MustParseAddr("10.77.0.1")}
			if err := os.WriteFile(cfg.StateFile, []byte(tt.state), 0o600); err != nil {
				t.Fatal(err)
			}
			s := newDHCPServer(cfg)
			signalled := false
			s.signal = func(int) error { signalled = true; return nil }
			err := s.SetDNS(t.Context(), nil)
			if err == nil || signalled {
				t.Fatalf("SetDNS = %v (signalled %v), want a refusal", err, signalled)
			}
			if tt.name != "garbage" && !errors.Is(err, ErrNotLabDnsmasq) {
				t.Errorf("SetDNS = %v, want ErrNotLabDnsmasq", err)
			}
			if _, err := os.Stat(cfg.OptsFile); !errors.Is(err, os.ErrNotExist) {
				t.Error("the options file was written for a refused dnsmasq")
			}
		})
	}
}
