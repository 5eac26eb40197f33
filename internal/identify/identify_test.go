// SPDX-License-Identifier: Apache-2.0

package identify_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var dev = netip.MustParseAddr("192.0.2.1")

func httpObs(eps ...httpprobe.Endpoint) *httpprobe.Observation {
	return &httpprobe.Observation{Addr: dev, Endpoints: eps}
}

func realmEndpoint(server, realm string) httpprobe.Endpoint {
	return httpprobe.Endpoint{Scheme: "http", Exchange: probe.Exchange{Port: 80}, Response: &httpfp.Response{
		StatusCode: 401, Server: server, WWWAuthenticate: []string{`Basic realm="` + realm + `"`},
		Challenges: []httpfp.Challenge{{Scheme: "Basic", Realm: realm}},
	}}
}

func statusEndpoint() httpprobe.Endpoint {
	return httpprobe.Endpoint{Scheme: "http", Exchange: probe.Exchange{Port: 80},
		Response: &httpfp.Response{StatusCode: 200, Server: "Router Webserver", Title: "TL-WR841N"},
		Arrays: []httpprobe.JSArray{{Name: "statusPara", Values: []string{"1", "1", "21", "20000", "3303482",
			"3.12.5 Build 100929 Rel.57776n ", "WR841N v6/v7 00000000", "716632876"}}},
	}
}

func upnpObs(manufacturer, modelName string) *upnpprobe.Observation {
	return &upnpprobe.Observation{Addr: dev, Descriptions: []upnpprobe.DescriptionResult{{
		URL: "http://192.0.2.1:5000/rootDesc.xml", Server: "Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1",
		Description: &upnpprobe.Description{Devices: []upnpprobe.Device{{Manufacturer: manufacturer, ModelName: modelName}}},
	}}}
}

func snmpObs(descr, oid string) *snmpprobe.Observation {
	return &snmpprobe.Observation{Addr: dev, Port: 161, Communities: []snmpprobe.Community{{Name: "public", Answered: true, SysDescr: descr, SysObjectID: oid}}}
}

func sshObs(software string) *bannerprobe.Observation {
	return &bannerprobe.Observation{Addr: dev, Endpoints: []bannerprobe.Endpoint{{Service: "ssh", Exchange: probe.Exchange{Port: 22},
		SSH: &bannerprobe.SSHIdent{Proto: "2.0", Software: software}}}}
}

func TestBuiltinRules(t *testing.T) {
	rs, err := identify.BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() < 15 {
		t.Errorf("%d built-in rules", rs.Len())
	}
}

func TestParseRulesRefuses(t *testing.T) {
	const ok = `  - id: a.b
    field: http.realm
    pattern: '^(x)$'
    set: {vendor: X}
    confidence: low
    source: test
    examples: [{value: x, want: {vendor: X}}]
`
	tests := []struct {
		name, yaml, want string
	}{
		{name: "unknown_key", yaml: "version: 1\nbogus: 1\nrules:\n" + ok, want: "unknown field"},
		{name: "wrong_version", yaml: "version: 2\nrules:\n" + ok, want: "version 2"},
		{name: "unknown_evidence_field", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "http.realm", "http.nope", 1), want: `unknown evidence field "http.nope"`},
		{name: "bad_pattern", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "'^(x)$'", "'^(x$'", 1), want: "pattern"},
		{name: "template_group_missing", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "{vendor: X}", "{vendor: X, model: '${2}'}", 1), want: "names group 2"},
		{name: "bare_dollar", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "{vendor: X}", "{vendor: X, model: '$1'}", 1), want: "write groups as ${N}"},
		{name: "no_source", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "source: test", "source: ''", 1), want: "no source"},
		{name: "bad_confidence", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "confidence: low", "confidence: sure", 1), want: `confidence "sure"`},
		{name: "duplicate_id", yaml: "version: 1\nrules:\n" + ok + ok, want: `duplicate id "a.b"`},
		{name: "example_wrong", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "want: {vendor: X}", "want: {vendor: Y}", 1), want: "sets"},
		{name: "example_not_matching", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "value: x,", "value: z,", 1), want: "does not match"},
		{name: "no_examples", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "    examples: [{value: x, want: {vendor: X}}]\n", "", 1), want: "no examples"},
		{name: "bad_id", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "id: a.b", "id: AB", 1), want: "not lowercase and dotted"},
		{name: "empty_set", yaml: "version: 1\nrules:\n" + strings.Replace(ok, "set: {vendor: X}", "set: {}", 1), want: "set is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identify.ParseRules([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseRules error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := identify.ParseRules([]byte("version: 1\nrules:\n" + ok)); err != nil {
		t.Errorf("valid rule refused: %v", err)
	}
}

func TestFromObservations(t *testing.T) {
	tests := []struct {
		name     string
		obs      []probe.Observation
		want     advisory.Identity
		wantConf finding.Confidence
		wantOS   string
		// wantModelRules are the rules behind the model, in order.
		wantModelRules []string
		wantConflicts  int
	}{
		{
			name:           "tplink_realm_and_server",
			obs:            []probe.Observation{httpObs(realmEndpoint("Router Webserver", "TP-LINK Wireless N Router WR841N"))},
			want:           advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"},
			wantConf:       finding.ConfidenceMedium,
			wantModelRules: []string{"routerwatch:tplink.realm.model_tl"},
		},
		{
			name: "tplink_status_page",
			obs:  []probe.Observation{httpObs(statusEndpoint())},
			want: advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "6/7", Firmware: "3.12.5 Build 100929 Rel.57776n"},
			// The hardware array is high; the title agrees.
			wantConf:       finding.ConfidenceHigh,
			wantModelRules: []string{"routerwatch:tplink.page.hardware_tl", "routerwatch:tplink.title.model"},
		},
		{
			name:           "tplink_realm_and_upnp_agree_across_probes",
			obs:            []probe.Observation{httpObs(realmEndpoint("", "TP-LINK Wireless N Router WR841N")), upnpObs("TP-LINK", "TL-WR841N")},
			want:           advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"},
			wantConf:       finding.ConfidenceHigh, // two probes agree: medium raised
			wantModelRules: []string{"routerwatch:tplink.realm.model_tl", "routerwatch:tplink.upnp.model_name"},
		},
		{
			name:     "upnp_model_needs_tplink_manufacturer",
			obs:      []probe.Observation{upnpObs("MiniUPnP", "TL-WR841N")},
			want:     advisory.Identity{},
			wantConf: finding.ConfidenceLow,
		},
		{
			name:           "shared_realm_lists_two_models",
			obs:            []probe.Observation{httpObs(realmEndpoint("", "TP-LINK Wireless Lite N Router WR740N/WR741ND"))},
			want:           advisory.Identity{Vendor: "TP-Link", Model: "TL-WR740N"},
			wantConf:       finding.ConfidenceMedium,
			wantModelRules: []string{"routerwatch:tplink.realm.model_tl"},
		},
		{
			name:           "mikrotik_snmp_and_ssh",
			obs:            []probe.Observation{snmpObs("RouterOS RB951Ui-2HnD", "1.3.6.1.4.1.14988.1"), sshObs("ROSSSH")},
			want:           advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD"},
			wantConf:       finding.ConfidenceMedium,
			wantOS:         "RouterOS",
			wantModelRules: []string{"routerwatch:mikrotik.snmp.descr_board"},
		},
		{
			name:     "mikrotik_vendor_only",
			obs:      []probe.Observation{sshObs("ROSSSH")},
			want:     advisory.Identity{Vendor: "MikroTik"},
			wantConf: finding.ConfidenceLow,
			wantOS:   "RouterOS",
		},
		{
			name: "conflicting_vendors_weighed",
			obs: []probe.Observation{
				httpObs(realmEndpoint("Router Webserver", "TP-LINK Wireless N Router WR841N")),
				snmpObs("RouterOS RB951Ui-2HnD", "1.3.6.1.4.1.14988.1"),
			},
			// SNMP enterprise (high) + sysDescr (medium) outweigh the realm
			// (medium) and Server (low); TP-Link's claims become conflicts.
			want:           advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD"},
			wantConf:       finding.ConfidenceMedium,
			wantOS:         "RouterOS",
			wantModelRules: []string{"routerwatch:mikrotik.snmp.descr_board"},
			wantConflicts:  2,
		},
		{
			name:     "nothing",
			obs:      []probe.Observation{&probe.None{Probe: "http"}, nil},
			want:     advisory.Identity{},
			wantConf: finding.ConfidenceLow,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := identify.FromObservations(tc.obs)
			if diff := cmp.Diff(tc.want, res.Identity); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if res.Confidence != tc.wantConf || res.OS.Value != tc.wantOS || res.Identified != (tc.want.Vendor != "") {
				t.Errorf("confidence %s os %q identified %v; want %s %q", res.Confidence, res.OS.Value, res.Identified, tc.wantConf, tc.wantOS)
			}
			var rules []string
			for _, s := range res.Model.Sources {
				rules = append(rules, s.Rule)
			}
			if diff := cmp.Diff(tc.wantModelRules, rules); diff != "" {
				t.Errorf("model sources (-want +got):\n%s", diff)
			}
			if len(res.Conflicts) != tc.wantConflicts {
				t.Errorf("%d conflicts, want %d: %+v", len(res.Conflicts), tc.wantConflicts, res.Conflicts)
			}
		})
	}
}

func TestSourcesNameTheString(t *testing.T) {
	res := identify.FromObservations([]probe.Observation{httpObs(statusEndpoint())})
	want := identify.Source{Probe: "http", Evidence: probe.FieldTPLinkArray, Value: "3.12.5 Build 100929 Rel.57776n ",
		Where: "http://192.0.2.1:80/#statusPara", Rule: "routerwatch:tplink.page.firmware", Confidence: finding.ConfidenceHigh}
	if diff := cmp.Diff([]identify.Source{want}, res.Firmware.Sources); diff != "" {
		t.Errorf("firmware sources (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), res.ModelAlternatives); diff != "" {
		t.Errorf("alternatives (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"hw_rev":{"value":"6/7","confidence":"high"`, `"region"`} {
		if strings.Contains(string(b), s) != (s != `"region"`) {
			t.Errorf("JSON %s: presence of %s wrong (empty fields are omitted)", b, s)
		}
	}
}

func TestAlternatives(t *testing.T) {
	res := identify.FromObservations([]probe.Observation{httpObs(realmEndpoint("", "TP-LINK Wireless Lite N Router WR740N/WR741ND"))})
	if diff := cmp.Diff([]string{"TL-WR741ND"}, res.ModelAlternatives); diff != "" {
		t.Errorf("alternatives (-want +got):\n%s", diff)
	}
}

func FuzzFromEvidence(f *testing.F) {
	f.Add("http.realm", "TP-LINK Wireless N Router WR841N", "snmp.sys_descr", "RouterOS RB951Ui-2HnD")
	f.Add("http.tplink_array", "WR841N v6/v7 00000000", "http.title", "TL-WR841N")
	id, err := identify.New(identify.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, f1, v1, f2, v2 string) {
		res := id.FromEvidence([]probe.Evidence{{Probe: "x", Field: f1, Value: v1, Group: "g"}, {Probe: "y", Field: f2, Value: v2, Group: "g"}})
		if res.Model.Value != "" && res.Vendor.Value == "" && len(res.Model.Sources) == 0 {
			t.Fatalf("model without a source: %+v", res)
		}
	})
}

func BenchmarkFromObservations(b *testing.B) {
	obs := []probe.Observation{httpObs(statusEndpoint(), realmEndpoint("Router Webserver", "TP-LINK Wireless N Router WR841N")),
		upnpObs("TP-LINK", "TL-WR841N"), snmpObs("RouterOS RB951Ui-2HnD", "1.3.6.1.4.1.14988.1")}
	id, err := identify.New(identify.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id.FromObservations(obs)
	}
}

// TestResultJSON pins the JSON form of a Result (go test
// ./internal/identify -run TestResultJSON -args -update).
func TestResultJSON(t *testing.T) {
	res := identify.FromObservations([]probe.Observation{
		httpObs(statusEndpoint(), realmEndpoint("Router Webserver", "TP-LINK Wireless N Router WR841N")),
		upnpObs("TP-LINK", "TL-WR841N"),
	})
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "result_tplink.json", append(b, '\n'))
}
