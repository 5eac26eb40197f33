// SPDX-License-Identifier: Apache-2.0

// Package cli implements the routerwatch command line: one file per
// subcommand. It parses flags, wires dependencies, picks a renderer and maps
// errors to the exit codes of PRODUCT.md. It holds no domain logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// Exit codes, as PRODUCT.md defines them.
const (
	ExitOK         = 0 // nothing failed
	ExitFindings   = 1 // at least one failing finding at or above --fail-on
	ExitUsage      = 2 // usage or configuration error
	ExitIncomplete = 3 // the run could not complete
)

// App is the state one invocation shares between subcommands. Tests build
// one with their own writers and environment.
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; os.Getenv in production.
	Getenv func(string) string

	// Flags shared by every subcommand.
	configPath string
	dataDir    string
	logLevel   string

	cfg    config.Config
	logger *slog.Logger
}

// usageError marks an error caused by the command line or configuration
// (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// findingsError reports that the run completed and found something failing
// at or above --fail-on (exit code 1). Its message is not printed: the
// report already said it.
type findingsError struct{ n int }

func (e *findingsError) Error() string { return fmt.Sprintf("%d failing finding(s)", e.n) }

// exitStatusError carries the exit status of a command a subcommand ran
// for the user (`lab exec`), so that routerwatch exits with it. Its
// message is not printed: the command already wrote its own output.
type exitStatusError struct{ code int }

func (e *exitStatusError) Error() string { return fmt.Sprintf("command exited with status %d", e.code) }

// ExitCode returns the command's exit status.
func (e *exitStatusError) ExitCode() int { return e.code }

// Main runs routerwatch with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	return app.Run(ctx, args)
}

// Run executes one command line.
func (a *App) Run(ctx context.Context, args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	return a.exitCode(err)
}

func (a *App) exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	// lab exec passes the command's own exit status through.
	var xe *exitStatusError
	if errors.As(err, &xe) {
		return xe.code
	}
	var fe *findingsError
	if errors.As(err, &fe) {
		return ExitFindings
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintf(a.Stderr, "routerwatch: %s\n", termtext.Text(err.Error()))
		fmt.Fprintln(a.Stderr, "Run 'routerwatch --help' for usage.")
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(a.Stderr, "routerwatch: interrupted")
		return ExitIncomplete
	}
	// Errors quote arguments, file contents and what devices sent.
	fmt.Fprintf(a.Stderr, "routerwatch: %s\n", termtext.Text(err.Error()))
	return ExitIncomplete
}

// isCobraUsageError recognises cobra's own argument and flag errors, which
// it returns as plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag",
		"flag needs an argument", "invalid argument", "accepts ", "requires at least",
		"requires at most", "received ", "bad flag syntax", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *App) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "routerwatch",
		Short: "Check home and small-office routers for known flaws, exposure and DNS hijacking",
		Long: `routerwatch tells you whether your router is affected by known vulnerabilities,
whether it exposes risky services, and whether its DNS settings were hijacked
(as in the 2025-2026 APT28 campaign against TP-Link and MikroTik routers).

Only targets in scope are contacted; nothing is exploited by default.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "configuration file (default $XDG_CONFIG_HOME/routerwatch/config.yaml)")
	pf.StringVar(&a.dataDir, "data-dir", "", "directory for imported and downloaded advisory data (default $XDG_DATA_HOME/routerwatch)")
	pf.StringVar(&a.logLevel, "log-level", "", "log level on stderr: debug, info, warn, error (default warn)")

	// One literal list of subcommands (STYLE.md R8).
	root.AddCommand(
		a.newVersionCmd(),
		a.newLookupCmd(),
		a.newAdvisoriesCmd(),
		a.newCheckCmd(),
		a.newDNSCmd(),
		a.newScanCmd(),
		a.newConfigCmd(),
		a.newFixCmd(),
		a.newWatchCmd(),
		a.newServeCmd(),
		a.newAgentCmd(),
		a.newLabCmd(),
		a.newWorkerCmd(),
		a.newRangeCmd(),
	)
	return root
}

// setup loads the configuration and builds the logger once per run.
func (a *App) setup(cmd *cobra.Command) error {
	path, mustExist := a.configPath, true
	if path == "" {
		path, mustExist = config.DefaultPath(a.Getenv), false
	}
	cfg, err := config.Load(path, mustExist)
	if err != nil {
		return &usageError{err}
	}
	if err := checkAlertConfig(cfg.Alerts); err != nil {
		return usagef("configuration %s: %v", path, err)
	}
	if a.dataDir != "" {
		if err := config.ValidateDataDir(a.dataDir); err != nil {
			return usagef("--data-dir: %v", err)
		}
		cfg.DataDir = a.dataDir
	}
	if cfg.DataDir == "" {
		cfg.DataDir = config.DefaultDataDir(a.Getenv)
	}
	if a.logLevel != "" {
		cfg.LogLevel = a.logLevel
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return usagef("--log-level: %q is not one of debug, info, warn, error", cfg.LogLevel)
	}
	a.cfg = cfg
	a.logger = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: lvl}))
	// net/http writes to the standard logger when a device misbehaves
	// ("Unsolicited response received on idle HTTP channel", with the
	// device's bytes): that is the device's fault, already reported as a
	// probe error, so it goes to the debug log instead of the user's screen.
	log.SetFlags(0)
	log.SetOutput(stdlibLog{a.logger})
	return nil
}

// stdlibLog forwards the standard logger to slog at debug level.
type stdlibLog struct{ l *slog.Logger }

func (w stdlibLog) Write(p []byte) (int, error) {
	// A library's line can quote a device's bytes: bounded and escaped.
	msg := strings.TrimSpace(string(p[:min(len(p), 200)]))
	w.l.Debug("library", "msg", termtext.Line(msg))
	return len(p), nil
}
