// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/routerwatch/routerwatch"

type goPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// listPackages runs go list over the module (non-test imports only).
func listPackages(t *testing.T, args ...string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []goPackage
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestBinaryDeps keeps test and debugging packages out of the binary
// (tailscale's deptest idea; each ban has its reason).
func TestBinaryDeps(t *testing.T) {
	banned := map[string]string{
		"testing":                                      "test code must not reach production",
		"net/http/pprof":                               "would expose profiling endpoints",
		"github.com/rogpeppe/go-internal":              "test-only (testscript)",
		"github.com/google/go-cmp":                     "test-only",
		module + "/internal/testutil":                  "test helpers",
		module + "/internal/lab/labtest":               "lab test helpers",
		"github.com/chromedp/chromedp":                 "test-only (drives a browser)",
		"github.com/santhosh-tekuri/jsonschema/v6/cmd": "tooling",
		"github.com/getkin/kin-openapi":                "test-only (validates the server's answers against its OpenAPI document)",
		"github.com/gorilla/mux":                       "test-only (kin-openapi's router)",
	}
	pkgs := listPackages(t, "-deps", "./")
	for _, p := range pkgs {
		if strings.HasPrefix(p.ImportPath, module+"/") && strings.HasSuffix(p.ImportPath, "test") {
			t.Errorf("the binary depends on the test-support package %s", p.ImportPath)
		}
		for ban, why := range banned {
			if p.ImportPath == ban || strings.HasPrefix(p.ImportPath, ban+"/") {
				t.Errorf("the binary depends on %s: %s", p.ImportPath, why)
			}
		}
	}
}

// architectureDoc is the document whose package table is the layering.
const architectureDoc = "../../docs/architecture.md"

// layerRow matches one row of the table: | N | `path` | ... |
var layerRow = regexp.MustCompile("^\\| *([0-9]+) *\\| *`([a-z0-9/_-]+)` *\\|")

// readLayers returns the layer of each package the document lists.
func readLayers(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	layers := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		m := layerRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if _, dup := layers[m[2]]; dup {
			t.Errorf("%s lists %s twice", architectureDoc, m[2])
		}
		layers[m[2]] = n
	}
	if len(layers) < 10 {
		t.Fatalf("%s: only %d package rows found; the table's format changed?", architectureDoc, len(layers))
	}
	return layers
}

// testOnly reports whether a package is test support: imported only from
// _test.go files (TestBinaryDeps and the check below keep it so), and
// outside the layer table.
func testOnly(rel string) bool {
	return rel == "internal/testutil" || rel == "internal/e2e" || strings.HasSuffix(rel, "test")
}

// bans are imports the layer order alone would allow, each with why not.
var bans = []struct{ from, to, why string }{
	{"internal/cli", "internal/probe", "the CLI builds options and renders; engines measure"},
	{"internal/cli", "internal/netx", "the CLI builds options and renders; engines dial"},
	{"internal/cli", "internal/hostnet", "the CLI builds options and renders; engines read the host"},
}

// TestLayering holds the whole layer order of docs/architecture.md: every
// package is listed (and every listed package exists), every import goes
// to a lower layer, the bans hold, only cmd/routerwatch imports the CLI,
// and test support is imported only by tests.
func TestLayering(t *testing.T) {
	layers := readLayers(t)
	pkgs := listPackages(t, module+"/...")
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		seen[rel] = true
		mine, listed := layers[rel]
		switch {
		case testOnly(rel) && listed:
			t.Errorf("%s is test support but has a layer in %s", rel, architectureDoc)
		case !testOnly(rel) && !listed:
			t.Errorf("%s is missing from the package table of %s: give it a layer", rel, architectureDoc)
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			irel := strings.TrimPrefix(imp, module+"/")
			if testOnly(irel) {
				if !testOnly(rel) {
					t.Errorf("%s imports the test-support package %s outside tests", rel, irel)
				}
				continue
			}
			if irel == "internal/cli" && rel != "cmd/routerwatch" {
				t.Errorf("%s imports internal/cli: only cmd/routerwatch may", rel)
			}
			if rel == "cmd/routerwatch" && irel != "internal/cli" {
				t.Errorf("cmd/routerwatch imports %s: it may import only internal/cli", irel)
			}
			for _, b := range bans {
				if rel == b.from && (irel == b.to || strings.HasPrefix(irel, b.to+"/")) {
					t.Errorf("%s imports %s: %s", rel, irel, b.why)
				}
			}
			theirs, ok := layers[irel]
			if !listed || !ok {
				continue // reported above
			}
			if theirs >= mine {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go to lower layers only", rel, mine, irel, theirs)
			}
		}
	}
	for rel := range layers {
		if !seen[rel] {
			t.Errorf("%s lists %s, which does not exist", architectureDoc, rel)
		}
	}
}

// TestLayeringCatchesViolations feeds the check a deliberate violation,
// so that TestLayering cannot pass by reading nothing.
func TestLayeringCatchesViolations(t *testing.T) {
	layers := readLayers(t)
	if layers["internal/finding"] >= layers["internal/cli"] || layers["internal/probe"] >= layers["internal/probe/dnsprobe"] {
		t.Fatalf("the table's order is not what this test assumes: %v", layers)
	}
	// internal/finding (layer 0) importing internal/cli would go up;
	// two probes share a layer, so one importing the other goes sideways.
	for _, tc := range []struct{ from, to string }{
		{"internal/finding", "internal/cli"},
		{"internal/probe/httpprobe", "internal/probe/dnsprobe"},
	} {
		if layers[tc.to] < layers[tc.from] {
			t.Errorf("%s → %s would pass the layer check", tc.from, tc.to)
		}
	}
}

// TestStoreDoesNotLog: the store holds the history of routers'
// configurations; it reports through errors that never carry a stored
// value, and has no logger through which one could leak.
func TestStoreDoesNotLog(t *testing.T) {
	for _, p := range listPackages(t, module+"/internal/store/...") {
		for _, imp := range p.Imports {
			if imp == "log" || imp == "log/slog" || imp == "log/syslog" {
				t.Errorf("%s imports %s: the store never logs", p.ImportPath, imp)
			}
		}
	}
}
