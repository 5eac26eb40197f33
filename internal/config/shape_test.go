// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deepBlock nests n block mappings, one per line.
func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// TestParseRefusesHostileShapes: a config that nests deeply or expands
// through aliases is refused before the YAML library sees it, at once
// (issue 8 §5.5). The depths are small enough that the old code answered
// too, with a decoding error instead of the bound.
func TestParseRefusesHostileShapes(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 1, "a"; i <= 6; i++ {
		name := fmt.Sprintf("l%d", i)
		laughs += fmt.Sprintf("%s: &%s [%s]\n", name, name, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", "))
		prev = name
	}
	tests := []struct {
		name, doc, want string
	}{
		{"flow sequences 10,000 deep", "data_dir: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n", "nests more than 64 levels"},
		{"flow mappings 5,000 deep", "data_dir: " + strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000) + "\n", "nests more than 64 levels"},
		{"unclosed brackets", "format: " + strings.Repeat("[", 100000), "nests more than 64 levels"},
		{"closers hidden in quotes", "format: " + strings.Repeat(`["]", `, 100) + "x\n", "nests more than 64 levels"},
		{"block mappings 1,000 deep", deepBlock(1000), "nests more than 64 levels"},
		{"compact sequences", "advisories:\n  sources:\n    " + strings.Repeat("- ", 200) + "x\n", "nests more than 64 levels"},
		{"alias expansion", laughs, "aliases expand it"},
		{"too large", "# " + strings.Repeat("x", MaxYAMLBytes) + "\n", "above the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse([]byte(tc.doc))
			if !errors.Is(err, ErrYAMLShape) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want ErrYAMLShape: %s", err, tc.want)
			}
			// Generous: the check is a linear scan of at most 1 MB.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusing it took %v", d)
			}
		})
	}
}

// TestShapeAcceptsRealisticNesting: the bound leaves every file
// routerwatch reads room; deep but legal nesting and brackets in quotes
// or comments, or in block scalars, are not refused.
func TestShapeAcceptsRealisticNesting(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"60 block levels", deepBlock(60)},
		{"60 flow levels", "x: " + strings.Repeat("[", 60) + strings.Repeat("]", 60) + "\n"},
		{"brackets in a comment", "format: json # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"},
		{"brackets in a block scalar", "x: |\n  " + strings.Repeat("[", 100) + "\n  " + strings.Repeat("{", 100) + "\ny: 1\n"},
		{"quoted closers balance", "x: [\"]\", '}', \"\\\"]\"]\ny: " + strings.Repeat("[", 60) + strings.Repeat("]", 60) + "\n"},
		{"aliases within the bound", "a: &a [1, 2]\nb: *a\nc: *a\n"},
		{"leading document marker", "---\nformat: json\n"},
		{"trailing document end", "format: json\n...\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkShape([]byte(tc.doc)); err != nil {
				t.Errorf("checkShape = %v", err)
			}
			if err := checkDocuments([]byte(tc.doc)); err != nil {
				t.Errorf("checkDocuments = %v", err)
			}
		})
	}
}

// TestParseRefusesExtraDocuments: what follows a second "---" was
// silently ignored; now it is an error that names the line.
func TestParseRefusesExtraDocuments(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"second document", "format: json\n---\nfail_on: low\n", "line 2"},
		{"after a leading marker", "---\nformat: json\n# comment\n---\nfail_on: low\n", "line 4"},
		{"after a document end", "format: json\n...\n---\nformat: text\n", "line 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), "second YAML document") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want a second-document error at %s", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("format: json\n---\n")); err != nil {
		t.Errorf("an empty second document (a trailing ---) is harmless: %v", err)
	}
}

func TestValidateDataDir(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"NUL", "data_dir: \"/var/lib/routerwatch\\0/x\"\n", "control character U+0000"},
		{"newline", "data_dir: \"/var/lib/rw\\nx\"\n", "control character U+000A"},
		{"relative", "data_dir: relative/x\n", "must be an absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), "data_dir: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want %q", err, tc.want)
			}
		})
	}
	if err := ValidateDataDir("/var/lib/routerwatch"); err != nil {
		t.Errorf("ValidateDataDir(absolute) = %v", err)
	}
}

// TestLoadRefusesFIFO: --config naming a FIFO returns at once instead of
// waiting forever for a writer.
func TestLoadRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(fifo, true)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load(FIFO) = %v", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the old code's read so the test binary can end.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Load(FIFO) blocked")
	}
}
