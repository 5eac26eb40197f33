// SPDX-License-Identifier: Apache-2.0

package finding_test

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/finding"
)

func TestValidCheckID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"exposure.telnet_open", true},
		{"firmware.cve_2023_50224_confirmed", true},
		{"dns.resolver_hijacked", true},
		{"dns.x", true},
		{"telnet_open", false},                    // no family
		{"exposure.", false},                      // no name
		{"Exposure.telnet_open", false},           // capital
		{"exposure.telnet-open", false},           // not snake_case
		{"exposure.telnet__open", false},          // empty word
		{"exposure.telnet_open_", false},          // trailing underscore
		{"exposure.telnet.open", false},           // two dots
		{"exposure.telnet_open@192.0.2.1", false}, // a finding ID, not a check ID
	} {
		t.Run(tt.id, func(t *testing.T) {
			if got := finding.ValidCheckID(tt.id); got != tt.want {
				t.Errorf("ValidCheckID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestCheckTitle(t *testing.T) {
	telnet := finding.Check{ID: "exposure.telnet_open", Pass: "Telnet does not answer on the LAN",
		Fail: "Telnet answers on the LAN", Unknown: "Could not tell whether telnet answers on the LAN",
		Trigger: "telnet accepts connections"}
	cve := finding.Check{ID: "firmware.known_vulnerable", Pass: "Not affected by %s", Fail: "Affected by %s",
		Unknown: "Could not tell whether this router is affected by %s", Trigger: "an advisory says so"}
	never := finding.Check{ID: "exposure.web_ui", Pass: "Web admin page on the LAN", Unknown: "Could not tell", Trigger: "never fails"}
	for _, tt := range []struct {
		name string
		c    finding.Check
		st   finding.Status
		what []string
		want string
	}{
		{"pass", telnet, finding.StatusPass, nil, "Telnet does not answer on the LAN"},
		{"fail", telnet, finding.StatusFail, nil, "Telnet answers on the LAN"},
		{"unknown", telnet, finding.StatusUnknown, nil, "Could not tell whether telnet answers on the LAN"},
		{"error reads as unknown", telnet, finding.StatusError, nil, "Could not tell whether telnet answers on the LAN"},
		{"what ignored without a verb", telnet, finding.StatusFail, []string{"x"}, "Telnet answers on the LAN"},
		{"fail with data", cve, finding.StatusFail, []string{"CVE-2023-50224 (credential file readable)"}, "Affected by CVE-2023-50224 (credential file readable)"},
		{"pass with data", cve, finding.StatusPass, []string{"any known vulnerability"}, "Not affected by any known vulnerability"},
		{"undeclared status gives the ID", never, finding.StatusFail, nil, "exposure.web_ui"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Title(tt.st, tt.what...)
			if got != tt.want {
				t.Errorf("Title(%s) = %q, want %q", tt.st, got, tt.want)
			}
			if declared := tt.name != "undeclared status gives the ID"; tt.c.HasTitle(tt.st, got) != declared {
				t.Errorf("HasTitle(%s, %q) = %v, want %v", tt.st, got, !declared, declared)
			}
		})
	}
}

func TestCheckHasTitle(t *testing.T) {
	telnet := finding.Check{ID: "exposure.telnet_open", Pass: "Telnet does not answer on the LAN", Fail: "Telnet answers on the LAN"}
	cve := finding.Check{ID: "firmware.known_vulnerable", Pass: "Not affected by %s", Fail: "Affected by %s"}
	for _, tt := range []struct {
		name  string
		c     finding.Check
		st    finding.Status
		title string
		want  bool
	}{
		{"fail carrying the pass title", telnet, finding.StatusFail, "Telnet does not answer on the LAN", false},
		{"pass carrying the fail title", telnet, finding.StatusPass, "Telnet answers on the LAN", false},
		{"undeclared unknown", telnet, finding.StatusUnknown, "Telnet answers on the LAN", false},
		{"template filled", cve, finding.StatusFail, "Affected by CVE-2025-9377", true},
		{"template left empty", cve, finding.StatusFail, "Affected by ", false},
		{"other status's template", cve, finding.StatusFail, "Not affected by CVE-2025-9377", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.HasTitle(tt.st, tt.title); got != tt.want {
				t.Errorf("HasTitle(%s, %q) = %v, want %v", tt.st, tt.title, got, tt.want)
			}
		})
	}
}

func TestCheckValidate(t *testing.T) {
	ok := finding.Check{ID: "dns.nxdomain_rewritten", Pass: "p", Fail: "f", Trigger: "t"}
	for _, tt := range []struct {
		name  string
		edit  func(*finding.Check)
		valid bool
	}{
		{"valid", func(*finding.Check) {}, true},
		{"bad ID", func(c *finding.Check) { c.ID = "nxdomain" }, false},
		{"no trigger", func(c *finding.Check) { c.Trigger = "" }, false},
		{"no title", func(c *finding.Check) { c.Pass, c.Fail = "", "" }, false},
		{"two verbs", func(c *finding.Check) { c.Fail = "%s and %s" }, false},
		{"other verb", func(c *finding.Check) { c.Fail = "%d names" }, false},
		{"fail reads like pass", func(c *finding.Check) { c.Fail = c.Pass }, false},
		{"unknown reads like fail", func(c *finding.Check) { c.Unknown = c.Fail }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if err := c.Validate(); (err == nil) != tt.valid {
				t.Errorf("Validate() = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}

func TestCheckVerify(t *testing.T) {
	telnet := finding.Check{ID: "exposure.telnet_open", Pass: "Telnet does not answer on the LAN",
		Fail: "Telnet answers on the LAN", Unknown: "Could not tell whether telnet answers on the LAN", Trigger: "t"}
	reach := finding.Check{ID: "exposure.device_reachable", Pass: "Device answers the probes", Unknown: "Device answered on no port", Trigger: "t"}
	for _, tt := range []struct {
		name string
		c    finding.Check
		f    finding.Finding
		ok   bool
	}{
		{"fail titled for fail", telnet, finding.Finding{CheckID: telnet.ID, Status: finding.StatusFail, Title: "Telnet answers on the LAN"}, true},
		{"fail titled for pass", telnet, finding.Finding{CheckID: telnet.ID, Status: finding.StatusFail, Title: "Telnet does not answer on the LAN"}, false},
		{"another check's finding", telnet, finding.Finding{CheckID: reach.ID, Status: finding.StatusPass, Title: "Device answers the probes"}, false},
		{"undeclared status", reach, finding.Finding{CheckID: reach.ID, Status: finding.StatusFail, Title: "exposure.device_reachable"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Verify(tt.f); (err == nil) != tt.ok {
				t.Errorf("Verify = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
