// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/agent"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/inputfile"
)

// envAgentToken carries the agent's token; like a router's password, a
// token on the command line shows in ps and in the shell's history.
const envAgentToken = "ROUTERWATCH_AGENT_TOKEN"

// maxTokenFile bounds a token file: a token is under a hundred bytes.
const maxTokenFile = 4 << 10

type agentFlags struct {
	dnsOptions
	server, token, tokenFile string
	stateDir, credentials    string
	caFile                   string
	insecure, once           bool
	logFormat                string
}

func (a *App) newAgentCmd() *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the audits at a site on the server's schedule and report to the server",
		Long: `agent runs at a site (a small office, a customer's network) for a routerwatch
server: it asks the server for the site's schedule — the DNS audit, router
checks, config pulls, and how often — runs them with the same engines as
'routerwatch dns', 'check' and 'config pull', and reports every result.

Results are written to an outbox in the state directory before they are sent,
and sent in order; while the server cannot be reached the agent keeps auditing
and queues them, retrying with a growing wait, and a restart resumes from the
outbox. A very long outage (past 10,000 queued results) gives up the oldest
first, and the server is told how many.

The token: give it in a file (--token-file, mode 0600) or in the environment
(` + envAgentToken + `). --token works but is not recommended: a command line
shows in ps and in the shell's history. The token is sent to the server only,
in the Authorization header, and never logged.

Router logins never travel: the schedule names the routers, and the agent
reads their logins from its own credentials file (--credentials, the format of
watch and check) or the environment (` + envRouterUser + `, ` + envRouterPassword + `).

The server must be reached over https (plain http only on loopback). For a
server with a self-signed certificate give its CA with --ca-file (preferred)
rather than --insecure-skip-verify.

Exit codes: 0 stopped cleanly (SIGTERM, SIGINT), or with --once the round was
run and delivered; 2 a usage or configuration error, including a token the
server refuses (wrong, expired, revoked: 401, 403) and a --server that is no
routerwatch server (404); 3 could not complete: with --once the server could
not be reached (the results stay queued for the next run), or the server
rejected a result (the outbox keeps it).`,
		Example: `  ROUTERWATCH_AGENT_TOKEN=rw_… routerwatch agent --server https://rw.example.net
  routerwatch agent --server https://rw.example.net --token-file /etc/routerwatch/agent.token --credentials /etc/routerwatch/credentials.yaml
  routerwatch agent --server https://10.0.0.5:8443 --ca-file server-ca.pem --token-file agent.token --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAgent(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "the routerwatch server's URL (https://host[:port])")
	fl.StringVar(&f.token, "token", "", "the site's agent token (prefer --token-file or $"+envAgentToken+": a command line shows in ps)")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the site's agent token (mode 0600)")
	fl.StringVar(&f.stateDir, "state-dir", "", "directory for the agent's ID, the last schedule and the outbox (default DATA_DIR/agent)")
	fl.BoolVar(&f.once, "once", false, "run every task of the schedule once, deliver the results, and exit (for cron and tests)")
	fl.StringVar(&f.credentials, "credentials", "", "credentials file of the site's routers (YAML, mode 0600)")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM file of the CA that signs the server's certificate (a self-signed server)")
	fl.BoolVar(&f.insecure, "insecure-skip-verify", false, "trust any certificate the server shows (test networks only; prefer --ca-file)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	addDNSFlags(cmd, &f.dnsOptions)
	return cmd
}

func (a *App) runAgent(ctx context.Context, f *agentFlags) error {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(a.cfg.LogLevel)) // validated at setup
	if a.logLevel == "" && a.cfg.LogLevel == config.Default().LogLevel {
		lvl = slog.LevelInfo // a daemon says what it does
	}
	var log *slog.Logger
	switch f.logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: lvl}))
	case "json":
		log = slog.New(slog.NewJSONHandler(a.Stderr, &slog.HandlerOptions{Level: lvl}))
	default:
		return usagef("--log-format: %q is not one of text, json", f.logFormat)
	}
	if f.server == "" {
		return usagef("agent: --server is required (the routerwatch server's https URL)")
	}
	if _, err := agent.ParseServerURL(f.server); err != nil {
		return usagef("--server: %v", err)
	}
	if f.caFile != "" && f.insecure {
		return usagef("--ca-file and --insecure-skip-verify: give one (prefer --ca-file)")
	}
	tok, err := a.agentToken(f)
	if err != nil {
		return err
	}
	state := f.stateDir
	if state == "" {
		state = filepath.Join(a.cfg.DataDir, "agent")
	}
	audits := &agent.Audits{}
	if audits.DNSPlan, err = a.dnsPlan(&f.dnsOptions); err != nil {
		return err
	}
	if audits.CheckBase.Index, _, err = a.openAdvisories(); err != nil {
		return err
	}
	if audits.CheckBase.Identifier, err = identifierFor(""); err != nil {
		return err
	}
	audits.CheckBase.Logger = a.logger
	credFile := f.credentials
	audits.Login = func(addr netip.Addr, adapter string) (device.Credentials, error) {
		// Never a prompt: a daemon has nobody to answer.
		if credFile == "" && a.cfg.CredentialsFile == "" && a.Getenv(envRouterPassword) == "" {
			return device.Credentials{}, fmt.Errorf("this agent has no login for the router %s: give it a credentials file (--credentials) or %s", addr, envRouterPassword)
		}
		return a.routerLogin(credFile, addr, adapter)
	}
	if f.insecure {
		log.Warn("agent: --insecure-skip-verify: the server's certificate is not checked; anyone on the path can read the token and the results")
	}
	ag, err := agent.New(agent.Options{
		Server:   agent.ServerOptions{URL: f.server, Token: tok, CAFile: f.caFile, InsecureSkipVerify: f.insecure},
		StateDir: state, Engines: audits, Once: f.once, Logger: log,
	})
	var se *agent.SetupError
	if errors.As(err, &se) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	err = ag.Run(ctx)
	switch {
	case err == nil:
		if !f.once {
			log.Info("agent: stopped")
		}
		return nil
	case errors.Is(err, agent.ErrRefused):
		return usagef("agent: %v", err)
	}
	return fmt.Errorf("agent: %w", err)
}

// agentToken finds the agent's token: --token-file, --token, else the
// environment; never a prompt (a daemon has nobody to answer).
func (a *App) agentToken(f *agentFlags) (config.Secret, error) {
	if f.token != "" && f.tokenFile != "" {
		return config.Secret{}, usagef("--token and --token-file: give one (prefer --token-file)")
	}
	s := f.token
	if f.tokenFile != "" {
		b, err := readTokenFile(f.tokenFile)
		if err != nil {
			return config.Secret{}, usagef("--token-file: %v", err)
		}
		s = b
	}
	if s == "" {
		s = a.Getenv(envAgentToken)
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return config.Secret{}, usagef("agent: no token: give the site's agent token with --token-file FILE or $%s", envAgentToken)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return config.Secret{}, usagef("agent: the token holds spaces or control characters; is it the right file?")
	}
	return config.NewSecret(s), nil
}

// readTokenFile reads a token file: a regular file, private to its owner
// (as the credentials file must be), small.
func readTokenFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if err := inputfile.Check(path); err != nil {
		return "", err
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %04o; run chmod 600 %s)", path, st.Mode().Perm(), path)
	}
	b, err := inputfile.ReadAll(path, maxTokenFile)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
