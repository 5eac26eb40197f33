// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRange: a scope needs an owner and a reason; a run over four
// loopback addresses, worked in this process, ends done with four
// records, and the report and the export read it.
func TestRange(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "fleet.db")
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data"), envDB: db}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return app.Run(ctx, args), out.String(), errb.String()
	}
	tests := []struct {
		name    string
		args    []string
		want    int
		wantOut string
	}{
		{"no_owner", []string{"range", "scope", "add", "--prefix", "127.0.9.0/30", "--reason", "test"}, ExitUsage, ""},
		{"host_bits", []string{"range", "scope", "add", "--prefix", "127.0.9.1/30", "--owner", "o", "--reason", "r"}, ExitUsage, ""},
		{"too_large", []string{"range", "scope", "add", "--prefix", "10.0.0.0/7", "--owner", "o", "--reason", "r"}, ExitUsage, ""},
		{"add", []string{"range", "scope", "add", "--prefix", "127.0.9.0/30", "--owner", "Example ISP", "--reason", "test", "--rate", "50"}, ExitOK, "scope 1: 127.0.9.0/30"},
		{"list", []string{"range", "scope", "list"}, ExitOK, "Example ISP"},
		{"run", []string{"range", "run", "1", "--wait"}, ExitOK, "run 1 done"},
		{"status", []string{"range", "status", "1"}, ExitOK, "4 addresses recorded"},
		{"report", []string{"range", "report", "1"}, ExitOK, "127.0.9.0/30"},
		{"export_csv", []string{"range", "export", "1", "--format", "csv"}, ExitOK, "address,prefix,model,advisory_verdict"},
		{"export_bad_format", []string{"range", "export", "1", "--format", "xml"}, ExitUsage, ""},
		{"unknown_run", []string{"range", "status", "99"}, ExitIncomplete, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(tt.args...)
			if code != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("exit %d, want %d with %q; stdout:\n%s\nstderr:\n%s", code, tt.want, tt.wantOut, out, errs)
			}
		})
	}
}
