// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// sampleEvents are one event of each kind, as the tracker makes them.
func sampleEvents(t *testing.T) []Event {
	t.Helper()
	p := rogueDNS(finding.SeverityHigh)
	p.Evidence = []finding.Evidence{{Key: "dhcp_dns", Value: "203.0.113.7"}, {Key: "answer", Value: "login.example.com A 203.0.113.66"}}
	open, raised := Track(nil, Cycle{Problems: []Problem{p}}, t0)
	p.Severity = finding.SeverityCritical
	open, changed := Track(open, Cycle{Problems: []Problem{p}}, t1)
	_, resolved := Track(open, Cycle{}, t1.Add(time.Hour))
	evs := append(append(raised, changed...), resolved...)
	if len(evs) != 3 {
		t.Fatalf("got %d events, want raised, changed, resolved", len(evs))
	}
	return evs
}

// TestEventJSON pins the JSON form (the webhook body) and checks it
// against the published JSON Schema.
func TestEventJSON(t *testing.T) {
	evs := sampleEvents(t)
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := json.MarshalIndent(ev, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	testutil.Golden(t, "events.json", buf.Bytes())

	schema := compileSchema(t)
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("%s event does not match the schema: %v", ev.Kind, err)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("event.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("event.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemaRefuses makes sure the schema is not a rubber stamp.
func TestSchemaRefuses(t *testing.T) {
	schema := compileSchema(t)
	good, _ := json.Marshal(sampleEvents(t)[0])
	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"unknown kind", func(m map[string]any) { m["kind"] = "fixed" }},
		{"unknown severity", func(m map[string]any) { m["severity"] = "severe" }},
		{"no key", func(m map[string]any) { delete(m, "key") }},
		{"other schema version", func(m map[string]any) { m["schema_version"] = 2 }},
		{"time not a date", func(m map[string]any) { m["time"] = "yesterday" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			b, _ := json.Marshal(m)
			v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if schema.Validate(v) == nil {
				t.Error("the schema accepted it")
			}
		})
	}
}

func TestEventIDStable(t *testing.T) {
	a := sampleEvents(t)
	b := sampleEvents(t)
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("%s: id %s then %s for the same event", a[i].Kind, a[i].ID, b[i].ID)
		}
		if seen[a[i].ID] {
			t.Errorf("%s: id %s repeats another event's", a[i].Kind, a[i].ID)
		}
		seen[a[i].ID] = true
	}
}

func TestHeadline(t *testing.T) {
	evs := sampleEvents(t)
	want := []string{
		"RAISED high: DHCP hands out a DNS server that lies about login names on office router (192.0.2.1)",
		"CHANGED high→critical: DHCP hands out a DNS server that lies about login names on office router (192.0.2.1)",
		"RESOLVED (was critical): no longer seen: DHCP hands out a DNS server that lies about login names on office router (192.0.2.1)",
	}
	for i, ev := range evs {
		if got := ev.Headline(); got != want[i] {
			t.Errorf("%s:\n got %q\nwant %q", ev.Kind, got, want[i])
		}
	}
	if got := (Device{Address: "192.0.2.1"}).String(); got != "192.0.2.1" {
		t.Errorf("device without label: %q", got)
	}
	if got := (Device{Label: "lab"}).String(); got != "lab" {
		t.Errorf("device without address: %q", got)
	}
	if !strings.Contains(Key("192.0.2.1", "x"), "192.0.2.1") {
		t.Error("key does not name the device")
	}
}
