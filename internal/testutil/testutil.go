// SPDX-License-Identifier: Apache-2.0

// Package testutil holds helpers for tests: locating the shared reference
// data, golden files. It is imported only from _test.go files (the
// dependency test in cmd/routerwatch enforces that).
package testutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update rewrites golden files instead of comparing with them:
// go test ./... -update
var Update = flag.Bool("update", false, "rewrite golden files")

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: no go.mod above the test directory")
		}
		dir = parent
	}
}

// SharedData returns the path of the shared reference data:
// $ROUTERWATCH_SHARED/data, else shared/data next to the repository or
// next to one of its parent directories (found relative to the module,
// never at a fixed path of some machine). Tests that need it skip when it is
// missing, except in CI (CI=true), where they fail: CI must run them.
func SharedData(t testing.TB) string {
	t.Helper()
	var candidates []string
	if base := os.Getenv("ROUTERWATCH_SHARED"); base != "" {
		candidates = append(candidates, filepath.Join(base, "data"))
	}
	for dir := ModuleRoot(t); ; dir = filepath.Dir(dir) {
		candidates = append(candidates, filepath.Join(filepath.Dir(dir), "shared", "data"))
		if filepath.Dir(dir) == dir {
			break
		}
	}
	dir := candidates[0]
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "csaf")); err == nil {
			return c
		}
	}
	{
		if os.Getenv("CI") == "true" {
			t.Fatalf("testutil: shared data not found (tried %v; set ROUTERWATCH_SHARED)", candidates)
		}
		t.Skipf("testutil: shared data not found at %s (set ROUTERWATCH_SHARED)", dir)
	}
	return dir
}

// Golden compares got with testdata/<name>, or rewrites it with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
