// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runWorker runs routerwatch args in process with env, cancelling after
// d (the signal a worker stops on).
func runWorker(t *testing.T, env map[string]string, d time.Duration, args ...string) (int, string) {
	t.Helper()
	home := t.TempDir()
	e := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data")}
	for k, v := range env {
		e[k] = v
	}
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return e[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return app.Run(ctx, args), errb.String()
}

func TestWorker(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     int
		wantErr  string
		mustNot  string
		jobsFile string
	}{
		{name: "unreachable_postgres_from_env", env: map[string]string{envDB: "postgres://rw:Sup3rS3cret@127.0.0.1:1/rw?connect_timeout=2"},
			args: []string{"worker"}, want: ExitIncomplete, wantErr: "PostgreSQL at 127.0.0.1:1", mustNot: "Sup3rS3cret"},
		{name: "unreachable_postgres_flag", args: []string{"worker", "--db", "postgres://rw:Sup3rS3cret@127.0.0.1:1/rw?connect_timeout=2"},
			want: ExitIncomplete, wantErr: "could not be reached", mustNot: "Sup3rS3cret"},
		{name: "unknown_queue", args: []string{"worker", "--queues", "mail"}, want: ExitUsage, wantErr: `"mail" is not one of`},
		{name: "zero_workers", args: []string{"worker", "--workers", "0"}, want: ExitUsage, wantErr: "--workers"},
		{name: "sqlite_starts_and_stops", args: []string{"worker", "--db", filepath.Join(dir, "routerwatch.db"), "--log-level", "info"},
			want: ExitOK, wantErr: "worker: stopping", jobsFile: filepath.Join(dir, "routerwatch.db.jobs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, errs := runWorker(t, tt.env, 3*time.Second, tt.args...)
			if code != tt.want || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, tt.want, tt.wantErr, errs)
			}
			if tt.mustNot != "" && strings.Contains(errs, tt.mustNot) {
				t.Errorf("stderr quotes %q:\n%s", tt.mustNot, errs)
			}
			if tt.jobsFile != "" {
				fi, err := os.Stat(tt.jobsFile)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("jobs file: %v, mode %v; want 0600", err, fi.Mode().Perm())
				}
			}
		})
	}
}
