// SPDX-License-Identifier: Apache-2.0

// Package builtin holds routerwatch's own advisory data: CSAF 2.0
// documents written by the project from the sources in brief/THREAT.md and
// THREAT-TABLES.md, embedded in the binary so that lookup works offline.
//
// The contract: every document is valid CSAF 2.0 (a test validates each
// against the schema), every value carries its source URL, and a value no
// source gives is absent (unknown), never invented. docs/advisory-data.md
// lists the conventions and how to change the data.
package builtin

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/csafsrc"
)

//go:embed data/*.json
var files embed.FS

// DataVersion names this snapshot of the built-in data; bump it whenever a
// document changes.
const DataVersion = "2026-11-26.1"

// Documents returns the raw embedded documents by file name.
func Documents() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(files, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		out[path.Base(p)] = b
		return nil
	})
	return out, err
}

// Load converts the embedded documents. They were schema-checked by the
// package test, so Load skips validation.
func Load() ([]csafsrc.Result, error) {
	docs, err := Documents()
	if err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]csafsrc.Result, 0, len(names))
	for _, n := range names {
		r, err := csafsrc.LoadValidated(docs[n], advisory.SourceBuiltin)
		if err != nil {
			return nil, fmt.Errorf("builtin %s: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Dataset returns the embedded documents as a Dataset, for callers (and
// tests) that need only the built-in data.
func Dataset() (*advisory.Dataset, error) {
	rs, err := Load()
	if err != nil {
		return nil, err
	}
	ds := &advisory.Dataset{}
	for _, r := range rs {
		ds.Advisories = append(ds.Advisories, r.Advisory)
		ds.Lifecycle = append(ds.Lifecycle, r.Lifecycle...)
	}
	return ds, nil
}
