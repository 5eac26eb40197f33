// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestMain lets the scripts run "routerwatch" as a command: the test
// binary re-executes itself as the CLI.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"routerwatch": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs testdata/script/*.txtar: one or more per subcommand,
// checking exit codes, output and files written. They need nothing but
// the binary: the dns_*.txtar scripts need loopback fake resolvers and run
// under TestScriptDNS instead; check_*.txtar and scan_*.txtar need fake
// routers and run under TestScriptCheck; config_*.txtar need a fake
// router web UI and run under TestScriptConfig; advisories*.txtar import the
// shared reference data and run under TestScriptAdvisories.
func TestScripts(t *testing.T) {
	runScripts(t, scriptFiles(t, func(base string) bool {
		for _, p := range []string{"dns_", "check_", "scan_", "config_", "advisories"} {
			if strings.HasPrefix(base, p) {
				return false
			}
		}
		return true
	}), "")
}

// TestScriptAdvisories runs advisories*.txtar, which import real CVE, CSAF
// and KEV documents from the shared data ($SHARED is ../shared/data).
func TestScriptAdvisories(t *testing.T) {
	shared := testutil.SharedData(t)
	runScripts(t, scriptFiles(t, func(base string) bool { return strings.HasPrefix(base, "advisories") }), shared)
}

// scriptFiles lists the scripts whose base name keep accepts.
func scriptFiles(t *testing.T, keep func(string) bool) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if keep(filepath.Base(f)) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	return files
}

// runScripts runs files, each in its own work directory holding its data
// and configuration; shared, when set, is $SHARED.
func runScripts(t *testing.T, files []string, shared string) {
	testscript.Run(t, testscript.Params{
		Files: files,
		Setup: func(env *testscript.Env) error {
			if shared != "" {
				env.Setenv("SHARED", shared)
			}
			// Keep every run's data and config inside its work dir.
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, "data"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "config"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
		},
	})
}

// cmdExitCode runs "exitcode N ARGS..." as routerwatch ARGS in process (so
// file arguments must be absolute: use $WORK/...) and
// fails unless the exit code is N, so scripts pin the PRODUCT.md codes
// (1 findings, 2 usage, 3 incomplete), not just "non-zero".
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: exitcode N [routerwatch arguments]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	app := &App{Stdin: strings.NewReader(""), Stdout: ts.Stdout(), Stderr: ts.Stderr(), Getenv: ts.Getenv}
	if got := app.Run(context.Background(), args[1:]); got != want {
		ts.Fatalf("routerwatch %s: exit code %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}
