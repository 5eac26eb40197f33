// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"os/exec"
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
		"github.com/santhosh-tekuri/jsonschema/v6/cmd": "tooling",
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

// layerRules says which internal packages a package may import. A key
// ending in "/..." covers the subtree. Packages not listed may import
// anything below the CLI; the listed ones are the layering of STYLE.md
// §2.1 that matters most: pure packages stay pure, probes never import
// each other, only the CLI is the top.
var layerRules = map[string][]string{
	"internal/finding":          {},
	"internal/target":           {"internal/inputfile"},
	"internal/version":          {},
	"internal/buildinfo":        {},
	"internal/termtext":         {},
	"internal/config":           {"internal/inputfile"},
	"internal/inputfile":        {},
	"internal/netx":             {"internal/target"},
	"internal/advisory":         {"internal/version", "internal/finding"},
	"internal/advisory/csafsrc": {"internal/advisory", "internal/version"},
	"internal/advisory/cverec":  {"internal/advisory", "internal/version"},
	"internal/advisory/kev":     {"internal/advisory"},
	"internal/advisory/builtin": {"internal/advisory", "internal/advisory/csafsrc"},
	"internal/advisory/datastore": {"internal/advisory", "internal/advisory/csafsrc", "internal/advisory/cverec",
		"internal/advisory/kev", "internal/advisory/builtin", "internal/version"},
	"internal/advisory/feed": {"internal/advisory/datastore", "internal/config"},
	// The store keeps devices' snapshots and findings' severities; it
	// knows no probe, check or front end. Implementations see only the
	// contract and the snapshot they store.
	"internal/store":           {"internal/device", "internal/finding"},
	"internal/store/storetest": {"internal/store", "internal/device", "internal/finding"},
	"internal/store/sqlite":    {"internal/store", "internal/device"},
}

func TestLayering(t *testing.T) {
	pkgs := listPackages(t, module+"/...")
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			irel := strings.TrimPrefix(imp, module+"/")
			switch {
			case irel == "internal/cli" && rel != "cmd/routerwatch":
				t.Errorf("%s imports internal/cli: only cmd/routerwatch may", rel)
			case rel == "cmd/routerwatch" && irel != "internal/cli":
				t.Errorf("cmd/routerwatch imports %s: it may import only internal/cli", irel)
			case strings.HasPrefix(irel, "internal/testutil") || strings.HasSuffix(irel, "test") && !strings.HasSuffix(rel, "test"):
				t.Errorf("%s imports the test-support package %s outside tests", rel, irel)
			case strings.HasPrefix(rel, "internal/probe/") && strings.HasPrefix(irel, "internal/probe/"):
				t.Errorf("probe %s imports probe %s: probes never import each other", rel, irel)
			}
			if allowed, ok := layerRules[rel]; ok {
				okImport := false
				for _, a := range allowed {
					if irel == a || (strings.HasSuffix(a, "/...") && strings.HasPrefix(irel, strings.TrimSuffix(a, "..."))) {
						okImport = true
					}
				}
				if !okImport {
					t.Errorf("%s imports %s; allowed: %v", rel, irel, allowed)
				}
			}
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
