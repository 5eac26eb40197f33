// SPDX-License-Identifier: Apache-2.0

package recog_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var (
	dbOnce sync.Once
	db     *recog.DB
	dbErr  error
)

// sharedDB loads the shared database once per test binary.
func sharedDB(t testing.TB) *recog.DB {
	t.Helper()
	dir := filepath.Join(testutil.SharedData(t), "recog", "xml")
	dbOnce.Do(func() { db, dbErr = recog.Load(dir) })
	if dbErr != nil {
		t.Fatal(dbErr)
	}
	return db
}

// TestSharedDatabase loads the real database and checks every example
// against its own fingerprint: the pattern matches and the parameters
// come out as the example says. This is what proves the Ruby-to-RE2
// translation ((?m), flags, base64 examples).
func TestSharedDatabase(t *testing.T) {
	db := sharedDB(t)
	files, fps, exs := db.Stats()
	t.Logf("recog: %d files, %d fingerprints, %d examples", files, fps, exs)
	if files < 50 || fps < 4600 || exs < 7500 {
		t.Errorf("loaded %d files, %d fingerprints, %d examples; the shared copy has 51, 4666, 7525", files, fps, exs)
	}
	var checked, external, failed int
	for _, key := range db.Keys() {
		for _, f := range db.Set(key).Fingerprints {
			for _, ex := range f.Examples {
				if ex.External {
					external++
					continue
				}
				checked++
				m, ok := f.Match(ex.Text)
				if !ok {
					failed++
					t.Errorf("%s: example %q does not match", f.Name(), ex.Text)
					continue
				}
				for k, want := range ex.Want {
					if got, ok := m.Params[k]; ok && got != want {
						failed++
						t.Errorf("%s: example %q: %s = %q, want %q", f.Name(), ex.Text, k, got, want)
					}
				}
			}
		}
	}
	t.Logf("examples: %d checked, %d external (_filename), %d failed", checked, external, failed)
}

func TestMatchFirstWins(t *testing.T) {
	db := sharedDB(t)
	tests := []struct {
		name, key, text string
		want            map[string]string
	}{
		{name: "router_webserver", key: "http_header.server", text: "Router Webserver",
			want: map[string]string{"hw.vendor": "TP-LINK", "hw.device": "Router", "os.vendor": "TP-LINK", "os.device": "Router", "service.vendor": "TP-LINK"}},
		{name: "routeros_board", key: "snmp.sys_description", text: "RouterOS RB951Ui-2HnD",
			want: map[string]string{"os.vendor": "MikroTik", "os.family": "RouterOS", "os.device": "Router", "os.product": "RB951Ui-2HnD"}},
		{name: "telnet_without_matches_attr", key: "telnet_banners", text: "MikroTik v6.42.3 (stable)\r\nLogin:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := db.Match(tc.key, tc.text)
			if !ok {
				t.Fatalf("no match for %q in %s", tc.text, tc.key)
			}
			if tc.want == nil {
				return
			}
			got := map[string]string{}
			for k := range tc.want {
				got[k] = m.Params[k]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := db.Match("no.such.key", "x"); ok {
		t.Error("match in a missing set")
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{name: "unknown_element", xml: `<fingerprints matches="x"><fingerprint pattern="a"><description>d</description><bogus/><param pos="0" name="n" value="v"/></fingerprint></fingerprints>`, want: "unknown attribute or element"},
		{name: "unknown_flag", xml: `<fingerprints><fingerprint pattern="a" flags="REG_BOGUS"><description>d</description><param pos="0" name="n" value="v"/></fingerprint></fingerprints>`, want: `unknown flag "REG_BOGUS"`},
		{name: "bad_pattern", xml: `<fingerprints><fingerprint pattern="(a"><description>d</description><param pos="0" name="n" value="v"/></fingerprint></fingerprints>`, want: "missing closing )"},
		{name: "param_beyond_groups", xml: `<fingerprints><fingerprint pattern="(a)"><description>d</description><param pos="2" name="n"/></fingerprint></fingerprints>`, want: `position "2" is not 0..1`},
		{name: "fixed_param_without_value", xml: `<fingerprints><fingerprint pattern="a"><description>d</description><param pos="0" name="n"/></fingerprint></fingerprints>`, want: "has no value"},
		{name: "bad_base64", xml: `<fingerprints><fingerprint pattern="a"><description>d</description><example _encoding="base64">!!!</example><param pos="0" name="n" value="v"/></fingerprint></fingerprints>`, want: "base64"},
		{name: "bad_preference", xml: `<fingerprints preference="7"><fingerprint pattern="a"><description>d</description><param pos="0" name="n" value="v"/></fingerprint></fingerprints>`, want: "preference"},
		{name: "not_xml", xml: `<fingerprints>`, want: "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recog.Parse("t.xml", []byte(tc.xml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"a.xml": {Data: []byte(`<fingerprints matches="x.y"><fingerprint pattern="^foo (\d+)$" flags="REG_ICASE"><description>Foo</description><example v="1">FOO 1</example><param pos="0" name="hw.vendor" value="Foo"/><param pos="1" name="v"/></fingerprint></fingerprints>`)},
		"b.xml": {Data: []byte(`<fingerprints><fingerprint pattern="^bar$"><description>Bar</description><param pos="0" name="hw.vendor" value="Bar"/></fingerprint></fingerprints>`)},
	}
	db, err := recog.LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "x.y"}, db.Keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	m, ok := db.Match("x.y", "foo 42")
	if !ok || m.Params["v"] != "42" || m.Params["hw.vendor"] != "Foo" {
		t.Errorf("Match = %+v, %v", m, ok)
	}
	if _, err := recog.LoadFS(fstest.MapFS{}); err == nil {
		t.Error("empty directory accepted")
	}
	if _, err := recog.Load(t.TempDir()); err == nil {
		t.Error("directory without xml accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<fingerprints matches="x"><fingerprint pattern="^(a)$"><description>d</description><example>a</example><param pos="1" name="n"/></fingerprint></fingerprints>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := recog.Parse("f.xml", b)
		if err != nil {
			return
		}
		for _, fp := range set.Fingerprints {
			for _, ex := range fp.Examples {
				fp.Match(ex.Text)
			}
		}
	})
}

func BenchmarkMatchServer(b *testing.B) {
	db := sharedDB(b)
	for b.Loop() {
		db.Match("http_header.server", "Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1")
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := filepath.Join(testutil.SharedData(b), "recog", "xml")
	for b.Loop() {
		if _, err := recog.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
