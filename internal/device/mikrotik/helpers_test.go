// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// sample reads a real export from the shared data.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "mikrotik", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unknown marks an expected unknown field.
const unknown = "?"

// expect is one field of a Config: its path ("services.telnet.enabled"),
// its value as JSON (or unknown), and a fragment of its Source.Where.
type expect struct {
	path, value, where string
}

// field returns the JSON object of the field at path.
func field(t *testing.T, cfg device.Config, path string) map[string]any {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not an object", path, p)
		}
		v, ok = m[p]
		if !ok {
			t.Fatalf("%s: no %q", path, p)
		}
	}
	f, ok := v.(map[string]any)
	if !ok || f["known"] == nil {
		t.Fatalf("%s is not a field: %v", path, v)
	}
	return f
}

func checkFields(t *testing.T, cfg device.Config, want []expect) {
	t.Helper()
	for _, w := range want {
		f := field(t, cfg, w.path)
		src, _ := f["source"].(map[string]any)
		where, _ := src["where"].(string)
		note, _ := src["note"].(string)
		if w.value == unknown {
			if f["known"] != false {
				got, _ := json.Marshal(f["value"])
				t.Errorf("%s = %s (%s; %s), want unknown", w.path, got, where, note)
			}
		} else {
			got, _ := json.Marshal(f["value"])
			// Compare as normalized JSON (object keys sorted).
			var wv any
			if err := json.Unmarshal([]byte(w.value), &wv); err != nil {
				t.Fatalf("%s: bad expected JSON %s", w.path, w.value)
			}
			want, _ := json.Marshal(wv)
			if f["known"] != true {
				t.Errorf("%s unknown (%s; %s), want %s", w.path, where, note, w.value)
			} else if string(got) != string(want) {
				t.Errorf("%s = %s, want %s (%s; %s)", w.path, got, w.value, where, note)
			}
		}
		if !strings.Contains(where, w.where) {
			t.Errorf("%s: source %q, want it to name %q", w.path, where, w.where)
		}
	}
}
