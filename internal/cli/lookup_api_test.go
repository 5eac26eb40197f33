// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/publish/lookuppage"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// lookupCases are the questions of TestLookupRenderers and of
// testdata/script/lookup.txtar, as command lines.
var lookupCases = []struct {
	name string
	args []string // after "lookup"
}{
	{"wr841n_v10", []string{"TL-WR841N", "--hw", "10"}},
	{"wr841n_v10_loose", []string{"tl-wr841n v10"}},
	{"wr841n_v10_lower", []string{"wr841n", "--hw", "10"}},
	{"archer_c7_eu_v2_old", []string{"Archer C7", "--region", "EU", "--hw", "2", "--fw", "240926"}},
	{"archer_c7_eu_v2_fixed", []string{"Archer C7(EU) V2", "--fw", "241108"}},
	{"archer_c7_eu_v2_fixed_fields", []string{"Archer C7", "--region", "EU", "--hw", "2", "--fw", "241108"}},
	{"archer_c7_eu_v2_full_build", []string{"Archer C7(EU) V2", "--fw", "Archer C7(EU)_V2_250110"}},
	{"archer_c7_en_v2", []string{"Archer C7(EN) V2", "--fw", "240926"}},
	{"wr841n_en_v14", []string{"TL-WR841N(EN) V14"}},
	{"wr841n_en_v14_flags", []string{"TL-WR841N", "--region", "en", "--hw", "14"}},
	{"wr841n_unknown_rev", []string{"TL-WR841N"}},
	{"unknown_model", []string{"WRT54G"}},
	{"unknown_model_vendor", []string{"WRT54G", "--vendor", "linksys"}},
	{"routeros", []string{"RB951Ui-2HnD", "--vendor", "mikrotik", "--fw", "6.49.6"}},
	{"wr841n_v12_build", []string{"TL-WR841N v12", "--fw", "3.16.9 Build 200409 Rel.52498n"}},
}

// lookupRefusals are questions the CLI refuses with exit code 2.
var lookupRefusals = []struct {
	name string
	args []string
}{
	{"typo", []string{"841n"}},
	{"bad_hw", []string{"TL-WR841N", "--hw", "ten"}},
	{"hw_conflict", []string{"TL-WR841N v10", "--hw", "12"}},
	{"region_conflict", []string{"TL-WR841N(EN) V14", "--region", "EU"}},
	{"bad_region", []string{"Archer C7", "--region", "XX"}},
	{"vendor_conflict", []string{"TP-Link TL-WR841N", "--vendor", "mikrotik"}},
	{"two_models", []string{"TL-WR841N/ND V9"}},
}

// apiQuery turns lookup's command line into the API's query string.
func apiQuery(t *testing.T, args []string) string {
	t.Helper()
	v := url.Values{}
	var model []string
	for i := 0; i < len(args); i++ {
		if name, ok := strings.CutPrefix(args[i], "--"); ok {
			v.Set(name, args[i+1])
			i++
			continue
		}
		model = append(model, args[i])
	}
	v.Set("model", strings.Join(model, " "))
	return v.Encode()
}

// TestLookupAPIMatchesCLI: for every question of the lookup tests, the
// public API answers the JSON that `routerwatch lookup --format json`
// prints (the real command, in process, on the same data directory), and
// refuses what the command refuses with the same sentence, the parameter
// named where the command names its flag. It runs on the built-in data
// and again with the shared CVE records, CSAF documents and KEV catalog
// imported, so the data line and the KEV statements are compared too.
func TestLookupAPIMatchesCLI(t *testing.T) {
	t.Run("builtin", func(t *testing.T) { compareLookupAPI(t, t.TempDir()) })
	t.Run("store", func(t *testing.T) {
		shared := testutil.SharedData(t)
		dir := t.TempDir()
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		if code := app.Run(context.Background(), []string{"--data-dir", dir, "advisories", "import",
			filepath.Join(shared, "cve"), filepath.Join(shared, "kev"), filepath.Join(shared, "csaf", "cisa")}); code != 0 {
			t.Fatalf("import: exit %d: %s", code, errb.String())
		}
		compareLookupAPI(t, dir)
	})
}

func compareLookupAPI(t *testing.T, dataDir string) {
	ds, info, err := datastore.Open(datastore.New(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(ds)
	h, err := lookuppage.New(lookuppage.Options{Burst: 1000,
		Data: func() (*advisory.Index, datastore.Info, error) { return ix, info, nil }})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args []string) (int, string, string) {
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		code := app.Run(context.Background(), append([]string{"--data-dir", dataDir, "lookup"}, args...))
		return code, out.String(), errb.String()
	}
	api := func(t *testing.T, args []string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, lookuppage.APIPath+"?"+apiQuery(t, args), nil))
		return w
	}
	for _, tc := range lookupCases {
		t.Run(tc.name, func(t *testing.T) {
			code, cliOut, cliErr := run(append(append([]string{}, tc.args...), "--format", "json"))
			if code != ExitOK && code != ExitFindings {
				t.Fatalf("lookup exit %d: %s", code, cliErr)
			}
			w := api(t, tc.args)
			if w.Code != http.StatusOK {
				t.Fatalf("API status %d: %s", w.Code, w.Body)
			}
			if w.Body.String() != cliOut {
				t.Fatalf("API answer differs from lookup --format json:\n--- lookup\n%s\n--- API\n%s", cliOut, w.Body)
			}
		})
	}
	for _, tc := range lookupRefusals {
		t.Run(tc.name, func(t *testing.T) {
			code, _, cliErr := run(tc.args)
			if code != ExitUsage {
				t.Fatalf("lookup exit %d, want %d", code, ExitUsage)
			}
			cliMsg := strings.TrimPrefix(strings.SplitN(cliErr, "\n", 2)[0], "routerwatch: ")
			want := strings.TrimPrefix(cliMsg, "lookup: ")
			for _, f := range []string{"hw", "region", "vendor", "fw"} {
				want = strings.ReplaceAll(want, "--"+f, f)
			}
			w := api(t, tc.args)
			var p struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusBadRequest {
				t.Fatalf("API status %d body %s", w.Code, w.Body)
			}
			if p.Error != want {
				t.Fatalf("API says %q; lookup says %q", p.Error, cliMsg)
			}
		})
	}
}
