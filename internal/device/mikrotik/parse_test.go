// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
)

// cmdText renders a command for comparison: line, menu, verb, target,
// find conditions and properties ("!name" for unset ones).
func cmdText(c mikrotik.Command) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("%02d %s %s", c.Line, c.Menu, c.Verb))
	if c.Target != "" {
		b.WriteString(" target=" + c.Target)
	}
	if c.HasFind {
		b.WriteString(" [find")
		for _, p := range c.Find {
			b.WriteString(" " + p.Name + "=" + p.Value)
		}
		b.WriteString("]")
	}
	for _, p := range c.Props {
		if p.Unset {
			b.WriteString(" !" + p.Name)
		} else {
			b.WriteString(" " + p.Name + "=" + p.Value)
		}
	}
	return b.String()
}

func TestParseExport(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []string
		warnings []string
	}{
		{
			name: "continuation_splits_a_word",
			// RouterOS wraps at ~80 columns, even inside a value, and
			// indents the continuation by four spaces.
			in:   "/ip settings\nset rp-filter=no tcp-syncookies=\\\n    no\n",
			want: []string{"02 ip/settings set rp-filter=no tcp-syncookies=no"},
		},
		{
			name: "continuation_before_quoted_value_crlf",
			in:   "/interface wireless\r\nset [ find default-name=wlan1 ] ssid=\\\r\n    \"Dedicado WiFi\" disabled=no\r\n",
			want: []string{"02 interface/wireless set [find default-name=wlan1] ssid=Dedicado WiFi disabled=no"},
		},
		{
			name: "escapes",
			in:   "/ip dhcp-client option\nset clientid value=\"0x01\\$(CLIENT_MAC)\" comment=\"a \\\"b\\\"\\_c\\\\\" name=caf\\C3\\A9\n",
			want: []string{`02 ip/dhcp-client/option set target=clientid value=0x01$(CLIENT_MAC) comment=a "b" c\ name=café`},
		},
		{
			name: "unset_and_negated",
			in:   "/ip firewall filter\nadd action=reject chain=input !connection-bytes in-interface-list=!LAN tcp-flags=!syn\n",
			want: []string{"02 ip/firewall/filter add action=reject chain=input !connection-bytes in-interface-list=!LAN tcp-flags=!syn"},
		},
		{
			name: "targets",
			in:   "/system logging action\nset 3 remote=192.0.2.9\n/ppp profile\nset *FFFFFFFE use-encryption=yes\n/interface lte\nset [ find ] mtu=1500\n/ip service\nset telnet,ftp disabled=yes\n",
			want: []string{
				"02 system/logging/action set target=3 remote=192.0.2.9",
				"04 ppp/profile set target=*FFFFFFFE use-encryption=yes",
				"06 interface/lte set [find] mtu=1500",
				"08 ip/service set target=telnet,ftp disabled=yes",
			},
		},
		{
			name: "one_line_commands_and_slash_paths",
			in:   "/ip dns set servers=192.0.2.1\n/ip/service/set www port=8080\n/tool graphing interface add\n",
			want: []string{
				"01 ip/dns set servers=192.0.2.1",
				"02 ip/service set target=www port=8080",
				"03 tool/graphing/interface add",
			},
		},
		{
			name: "comments_and_console_prompt",
			// The verbose sample has "# disabled" inside the body and
			// ends with the console prompt.
			in:   "/interface bridge port-controller\n# disabled \"quote\nset bridge=none\n[admin@Router-1] > \n",
			want: []string{"03 interface/bridge/port-controller set bridge=none"},
		},
		{
			name:     "bad_lines_are_warnings",
			in:       "# jan/02/2020 10:00:00 by RouterOS 6.48\n/ip dns\nset servers=\"192.0.2.1\n/ip service\nset [ find name=www port=81\nfrobnicate x=1\n:global x 1\nset ssh port=22\n",
			want:     []string{"08 ip/service set target=ssh port=22"},
			warnings: []string{"line 3: unterminated quoted value", "line 5: unterminated [ find ]", `line 6: unknown command "frobnicate"`, `line 7: script command ":global"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := mikrotik.ParseExport([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range e.Commands {
				got = append(got, cmdText(c))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if len(tc.warnings) != len(e.Warnings) {
				t.Fatalf("warnings %q, want %q", e.Warnings, tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.HasPrefix(e.Warnings[i], w) {
					t.Errorf("warning %q, want %q…", e.Warnings[i], w)
				}
			}
		})
	}
}

func TestParseExportRejects(t *testing.T) {
	for _, in := range []string{"", "\n\n", "# no header here\n"} {
		if _, err := mikrotik.ParseExport([]byte(in)); err == nil {
			t.Errorf("ParseExport(%q) = nil error", in)
		}
	}
}
