// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// runApp runs routerwatch args in process with a private home.
func runApp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data")}
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestCheckRecogDir: from the WAN side the MikroTik fake shows only its
// WebFig page, whose title our own rules do not read; with --recog-dir the
// rapid7 recog database (html_title.xml) names the vendor.
func TestCheckRecogDir(t *testing.T) {
	dir := filepath.Join(testutil.SharedData(t), "recog", "xml")
	addr := netip.MustParseAddr("127.0.0.61")
	ports := audittest.FreePorts(t, addr)
	audittest.MikroTik(t, addr, ports)
	// Only the web page and Winbox answer: SNMP, SSH and the API, which
	// name it without recog, are pointed at closed ports here.
	ports = clonePorts(ports)
	closed := audittest.FreePorts(t, addr)
	for _, s := range []string{"snmp", "ssh", "api"} {
		ports[s] = closed[s]
	}
	base := append([]string{"check", "--wan-vantage", "--target", addr.String(), "--format", "json"}, audittest.PortFlags(ports)...)

	tests := []struct {
		name       string
		args       []string
		wantVendor string
	}{
		{name: "own_rules_only", args: base, wantVendor: ""},
		{name: "with_recog", args: append(append([]string(nil), base...), "--recog-dir", dir), wantVendor: "MikroTik"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runApp(t, tt.args...)
			if code != ExitFindings {
				t.Fatalf("exit %d, want %d (remote management); stderr:\n%s", code, ExitFindings, errs)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			vendor := ""
			for _, s := range rep.Subjects {
				for _, a := range s.Attributes {
					if s.Kind == "router" && a.Key == "vendor" && a.Value != "unknown" {
						vendor, _, _ = strings.Cut(a.Value, " (")
					}
				}
			}
			if vendor != tt.wantVendor {
				t.Errorf("vendor %q, want %q", vendor, tt.wantVendor)
			}
		})
	}
}

func clonePorts(p map[string][]uint16) map[string][]uint16 {
	out := map[string][]uint16{}
	for k, v := range p {
		out[k] = append([]uint16(nil), v...)
	}
	return out
}
