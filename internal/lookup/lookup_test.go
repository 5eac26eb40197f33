// SPDX-License-Identifier: Apache-2.0

package lookup

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
)

func builtinIndex(t testing.TB) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

var (
	cliStyle = Style{Name: func(f Field) string { return "--" + string(f) }, Prefix: "lookup: ", Example: "routerwatch lookup TL-WR841N --hw 10"}
	apiStyle = Style{Example: "model=TL-WR841N&hw=10"}
)

// TestParse: what a person types becomes an identity; what cannot be read
// is refused with one sentence, worded per front end around the same text.
func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name    string
		q       Query
		want    advisory.Identity
		kind    ErrorKind
		cliText string
		apiText string
	}{
		{name: "loose", q: Query{Model: " tl-wr841n v10 "}, want: advisory.Identity{Model: "tl-wr841n", HWRev: "10"}},
		{name: "region_in_model", q: Query{Model: "Archer C7(EU) V2", Firmware: " 241108 "}, want: advisory.Identity{Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "241108"}},
		{name: "fields", q: Query{Model: "RB951Ui-2HnD", Vendor: "mikrotik", Firmware: "6.49.6"}, want: advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.49.6"}},
		{name: "hw_and_region_fields", q: Query{Model: "TL-WR841N", HW: "V14.0", Region: "en"}, want: advisory.Identity{Model: "TL-WR841N", HWRev: "14", Region: "EN"}},
		{name: "same_both_ways", q: Query{Model: "TP-Link TL-WR841N v10", HW: "10", Vendor: "tplink"}, want: advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}},
		{name: "no_model", q: Query{Model: "  ", HW: "10"}, kind: ErrNoModel,
			cliText: "lookup: give a model, e.g. routerwatch lookup TL-WR841N --hw 10",
			apiText: "give a model, e.g. model=TL-WR841N&hw=10"},
		{name: "many_models", q: Query{Model: "TL-WR841N/ND V9"}, kind: ErrManyModels,
			cliText: `lookup: "TL-WR841N/ND V9" names 2 models; give one`,
			apiText: `"TL-WR841N/ND V9" names 2 models; give one`},
		{name: "bad_hw", q: Query{Model: "TL-WR841N", HW: "ten"}, kind: ErrBadHW,
			cliText: `--hw: "ten" is not a hardware revision (want 10, V10 or 10.0)`,
			apiText: `hw: "ten" is not a hardware revision (want 10, V10 or 10.0)`},
		{name: "hw_conflict", q: Query{Model: "TL-WR841N v10", HW: "12"}, kind: ErrConflict,
			cliText: "lookup: the model says hardware V10 but --hw says 12",
			apiText: "the model says hardware V10 but hw says 12"},
		{name: "vendor_conflict", q: Query{Model: "TP-Link TL-WR841N", Vendor: "mikrotik"}, kind: ErrConflict,
			cliText: "lookup: the model says vendor TP-Link but --vendor says mikrotik",
			apiText: "the model says vendor TP-Link but vendor says mikrotik"},
		{name: "region_conflict", q: Query{Model: "TL-WR841N(EN) V14", Region: "eu"}, kind: ErrConflict,
			cliText: "lookup: the model says region EN but --region says EU",
			apiText: "the model says region EN but region says EU"},
		{name: "bad_region", q: Query{Model: "TL-WR841N", Region: "XX"}, kind: ErrBadRegion,
			cliText: `--region: "XX" is not a known market variant (known: ` + strings.Join(advisory.Regions(), ", ") + ")",
			apiText: `region: "XX" is not a known market variant (known: ` + strings.Join(advisory.Regions(), ", ") + ")"},
		{name: "model_too_long", q: Query{Model: strings.Repeat("A", MaxFieldLen+1)}, kind: ErrTooLong,
			cliText: "--model: 201 bytes; at most 200", apiText: "model: 201 bytes; at most 200"},
		{name: "fw_too_long", q: Query{Model: "TL-WR841N", Firmware: strings.Repeat("1", 1000)}, kind: ErrTooLong,
			cliText: "--fw: 1000 bytes; at most 200", apiText: "fw: 1000 bytes; at most 200"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Parse(tt.q)
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if id != tt.want {
					t.Fatalf("identity %+v, want %+v", id, tt.want)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *lookup.Error", err, err)
			}
			if le.Kind != tt.kind {
				t.Errorf("kind %d, want %d", le.Kind, tt.kind)
			}
			if got := le.Text(cliStyle); got != tt.cliText {
				t.Errorf("CLI text\n got %s\nwant %s", got, tt.cliText)
			}
			if got := le.Text(apiStyle); got != tt.apiText {
				t.Errorf("API text\n got %s\nwant %s", got, tt.apiText)
			}
			if le.Error() != tt.apiText {
				t.Errorf("Error() %q, want the API's wording %q", le.Error(), tt.apiText)
			}
		})
	}
}

// TestResolve: a model is put in the data's spelling; a typo gets "did
// you mean"; a model that looks like nothing known is not an error (the
// answer says no advisory names it).
func TestResolve(t *testing.T) {
	ix := builtinIndex(t)
	for _, tt := range []struct {
		name     string
		model    string
		want     advisory.Identity
		suggests string
	}{
		{name: "lower_case", model: "wr841n", want: advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"}},
		{name: "typo", model: "841n", suggests: "TL-WR841N"},
		{name: "unknown", model: "WRT54G", want: advisory.Identity{Model: "WRT54G"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Resolve(ix, advisory.Identity{Model: tt.model})
			if tt.suggests != "" {
				var le *Error
				if !errors.As(err, &le) || le.Kind != ErrUnknownModel {
					t.Fatalf("error %v, want ErrUnknownModel", err)
				}
				if le.Suggestions[0] != tt.suggests {
					t.Errorf("suggestions %v, want %s first", le.Suggestions, tt.suggests)
				}
				want := `no advisory names model "841n"; did you mean ` + strings.Join(le.Suggestions, ", ") + "?"
				if le.Text(cliStyle) != want || le.Error() != want {
					t.Errorf("text %q / %q, want %q in both styles", le.Text(cliStyle), le.Error(), want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.want {
				t.Fatalf("identity %+v, want %+v", id, tt.want)
			}
		})
	}
}

// TestAsk pins a verdict end to end and the JSON form's fixed parts.
func TestAsk(t *testing.T) {
	ix := builtinIndex(t)
	info := datastore.Info{BuiltinVersion: "TEST", StoreDocs: 2, StoreUpdated: "2026-01-02T03:04:05Z", KEVVersion: "2026.01.01"}
	r, err := Ask(ix, info, Query{Model: "Archer C7", Region: "EU", HW: "2", Firmware: "240926"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != "affected" || len(r.Advisories) == 0 {
		t.Fatalf("verdict %s with %d advisories, want affected", r.Verdict, len(r.Advisories))
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	data := back["data"].(map[string]any)
	if back["schema_version"] != float64(1) || data["builtin"] != "TEST" || data["store_documents"] != float64(2) || data["kev_catalog"] != "2026.01.01" {
		t.Errorf("JSON head %v / data %v", back["schema_version"], data)
	}
	if strings.Contains(buf.String(), `"Why"`) || !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("JSON carries the text-only reason or lacks the final newline:\n%s", buf.String())
	}
	if _, err := Ask(ix, info, Query{Model: "841n"}); err == nil {
		t.Error("a typo was answered")
	}
	if _, err := Ask(ix, info, Query{Model: "TL-WR841N", HW: "x"}); err == nil {
		t.Error("a bad revision was answered")
	}
}

func TestDecidingField(t *testing.T) {
	for reason, want := range map[string]Field{
		advisory.ReasonNeedFirmware.String(): FieldFirmware,
		advisory.ReasonNeedHWRev.String():    FieldHW,
		advisory.ReasonNeedRegion.String():   FieldRegion,
		advisory.ReasonInRange.String():      "",
	} {
		if got := DecidingField(reason); got != want {
			t.Errorf("DecidingField(%s) = %q, want %q", reason, got, want)
		}
	}
}

// FuzzParse: any query (the public API passes strangers' bytes here) is
// either an identity or a *lookup.Error whose text is bounded; never a
// panic.
func FuzzParse(f *testing.F) {
	f.Add("TL-WR841N(EU) v10", "", "10", "eu", "3.16.9 Build 200409 Rel.52498n")
	f.Add("TL-WR841N/ND(MS) V9", "tp-link", "", "", "")
	f.Add("", "", "", "", "")
	f.Add("\x00\xff", "\u009b", "V", "((", "")
	f.Fuzz(func(t *testing.T, model, vendor, hw, region, fw string) {
		id, err := Parse(Query{Model: model, Vendor: vendor, HW: hw, Region: region, Firmware: fw})
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *lookup.Error", err)
			}
			if n := len(le.Text(cliStyle)); n > 4*MaxFieldLen+600 {
				t.Fatalf("message of %d bytes", n)
			}
			return
		}
		if id.Model == "" {
			t.Fatal("accepted without a model")
		}
	})
}
