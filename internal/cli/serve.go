// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/publish/csafprovider"
	"github.com/routerwatch/routerwatch/internal/publish/lookuppage"
	"github.com/routerwatch/routerwatch/internal/server"
	"github.com/routerwatch/routerwatch/internal/store"
)

// envNewPassword gives `serve adduser` the new user's password in
// scripts; there is no flag for it (a flag is seen in ps and in shell
// history).
const envNewPassword = "ROUTERWATCH_NEW_PASSWORD"

// csafServeFlags publish the CSAF provider directory from serve.
type csafServeFlags struct {
	baseURL, name, namespace, category string
	contacts                           []string
}

type serveFlags struct {
	listen, db      string
	workers         int
	tlsCert, tlsKey string
	trustedProxies  []string
	trustedOrigins  []string
	publicLookup    bool
	allowPrivate    bool
	csaf            csafServeFlags
	logFormat       string
	recogDir        string
	stopTimeout     time.Duration
}

func (a *App) newServeCmd() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboard, the JSON API and /metrics for many sites",
		Long: `serve runs routerwatch's server: a dashboard for people (sites, devices, DNS
status, findings by severity, configuration history in words, alerts to
acknowledge, users, API tokens, the audit log, range audits), a JSON API
under /api/v1/ (its OpenAPI document at /api/v1/openapi.json) and Prometheus'
/metrics. It speaks HTTPS only: with --tls-cert and --tls-key, or a
self-signed certificate made on the first start and kept in the data
directory (its SHA-256 fingerprint is printed, to compare with what the
browser shows).

--db names the database: by default the SQLite store in the data directory,
one process, whose jobs (range audits, checks of each site from outside) run
in this process; or a postgres:// URL ($` + envDB + `, or the configuration's
database) shared with 'routerwatch worker' processes, with --workers jobs
worked here too (0: only the workers work them).

Nobody can log in until an admin exists: 'routerwatch serve adduser --org
NAME --user LOGIN --role admin'. Stop it with SIGTERM: requests in flight
finish, running jobs are handed back. See docs/serve.md.`,
		Example: `  routerwatch serve adduser --org acme --user alice --role admin
  routerwatch serve --listen 0.0.0.0:8443
  routerwatch serve --db postgres://rw@db.example/rw --workers 0 --tls-cert cert.pem --tls-key key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServe(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", server.DefaultListen, "address to listen on (host:port)")
	fl.StringVar(&f.db, "db", "", "the database: postgres://… or a SQLite store file (default $"+envDB+", the config's database, the data directory's store)")
	fl.IntVar(&f.workers, "workers", jobs.DefaultWorkers, fmt.Sprintf("jobs of each queue worked in this process (0-%d; 0 when 'routerwatch worker' processes work them)", jobs.MaxWorkers))
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM; default: a self-signed one kept in the data directory)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS key file (PEM), with --tls-cert")
	fl.StringSliceVar(&f.trustedProxies, "trusted-proxy", nil, "prefix of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed; repeatable")
	fl.StringSliceVar(&f.trustedOrigins, "trusted-origin", nil, "origin (https://host[:port]) allowed to post forms besides the server's own, behind a proxy that changes the host; repeatable")
	fl.BoolVar(&f.publicLookup, "public-lookup", false, `also serve the public "is my model affected?" page (/lookup) and API (/api/v1/lookup), without login`)
	fl.BoolVar(&f.allowPrivate, "allow-private-ranges", false, "let admins authorise range audits of private, shared (CGNAT), loopback or link-local address space (an ISP's inside)")
	fl.StringVar(&f.csaf.baseURL, "csaf-base-url", "", "also serve the CSAF 2.0 provider directory of the advisories under /.well-known/csaf/, as this https origin (with --csaf-publisher-name and --csaf-publisher-namespace)")
	fl.StringVar(&f.csaf.name, "csaf-publisher-name", "", "publisher name for the CSAF provider metadata")
	fl.StringVar(&f.csaf.namespace, "csaf-publisher-namespace", "", "publisher namespace URL for the CSAF provider metadata")
	fl.StringVar(&f.csaf.category, "csaf-publisher-category", "vendor", "publisher category: coordinator, discoverer, other, translator, user, vendor")
	fl.StringSliceVar(&f.csaf.contacts, "csaf-security-contact", nil, "Contact: line of the served security.txt (mailto: or https:); repeatable")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&f.recogDir, "recog-dir", "", "jobs also identify with the rapid7 recog fingerprint database in this directory")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", 30*time.Second, "on SIGTERM, how long running jobs may finish before they are handed back")
	cmd.AddCommand(a.newServeAddUserCmd())
	return cmd
}

// serveLogger is a daemon's logger: info unless a level was chosen.
func (a *App) serveLogger(format string) (*slog.Logger, error) {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(a.cfg.LogLevel)) // validated at setup
	if a.logLevel == "" && a.cfg.LogLevel == config.Default().LogLevel {
		lvl = slog.LevelInfo
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: lvl})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.Stderr, &slog.HandlerOptions{Level: lvl})), nil
	}
	return nil, usagef("--log-format: %q is not one of text, json", format)
}

func (a *App) runServe(ctx context.Context, f *serveFlags) error {
	log, err := a.serveLogger(f.logFormat)
	if err != nil {
		return err
	}
	if f.workers < 0 || f.workers > jobs.MaxWorkers {
		return usagef("--workers must be between 0 and %d", jobs.MaxWorkers)
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return usagef("--listen: %q is not host:port", f.listen)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	o := server.Options{Logger: log, Listen: f.listen, CertFile: f.tlsCert, KeyFile: f.tlsKey,
		StateDir: a.cfg.DataDir, TrustedOrigins: f.trustedOrigins, AllowPrivateRanges: f.allowPrivate}
	for _, p := range f.trustedProxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			if ad, aerr := netip.ParseAddr(p); aerr == nil {
				pf = netip.PrefixFrom(ad, ad.BitLen())
			} else {
				return usagef("--trusted-proxy: %q is not an address or a prefix", p)
			}
		}
		o.TrustedProxies = append(o.TrustedProxies, pf.Masked())
	}

	db := a.fleetDB(f.db)
	st, err := a.openFleetStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	o.Store = st

	// The jobs: River next to the store, counters on /metrics' registry.
	// The advisory data judges the agents' routers, the workers' range
	// audits and the public lookup; the built-in data is always there.
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	o.Registry = prometheus.NewRegistry()
	metrics, err := jobs.NewMetrics(o.Registry)
	if err != nil {
		return err
	}
	jcfg := jobs.Config{DSN: jobsDSN(db), Workers: f.workers, Periodic: f.workers > 0, Metrics: metrics, Logger: log}
	jcfg.Range, jcfg.WAN = jobs.FromStore(st)
	if f.workers > 0 {
		id, err := identifierFor(f.recogDir)
		if err != nil {
			return err
		}
		jcfg.Judge = audit.Options{Index: ix, Identifier: id}
	}
	jc, err := jobs.Open(ctx, jcfg)
	switch {
	case errors.Is(err, jobs.ErrInvalid):
		return &usageError{fmt.Errorf("serve: %w", err)}
	case err != nil:
		return fmt.Errorf("serve: %w", err)
	}
	o.Jobs = jc
	o.Collectors = []prometheus.Collector{jc.QueueCollector()}
	if f.workers > 0 {
		if err := jc.Start(context.WithoutCancel(ctx)); err != nil {
			jc.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), f.stopTimeout)
		defer cancel()
		if err := jc.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Warn("serve: stopping the jobs", "err", err)
		}
	}()

	// The agents' endpoint: only a site's agent tokens reach it, each for
	// its own site; their results are judged and alerted on here.
	ah, err := agentserver.New(agentserver.Options{Auth: agentserver.AuthPrincipal{},
		Sites: agentserver.StoreSites{Store: st}, Store: st, Index: ix, Logger: log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	o.Agents = append(o.Agents, server.AgentRoute{Pattern: agentapi.BasePath, Handler: ah})

	if f.publicLookup {
		h, err := lookuppage.New(lookuppage.Options{Logger: log,
			Data: func() (*advisory.Index, datastore.Info, error) { return ix, info, nil }})
		if err != nil {
			return err
		}
		o.Public = append(o.Public, server.PublicRoute{Pattern: lookuppage.PagePath, Handler: h},
			server.PublicRoute{Pattern: lookuppage.APIPath, Handler: h})
	}

	if f.csaf.baseURL != "" {
		if f.csaf.name == "" || f.csaf.namespace == "" {
			return usagef("--csaf-base-url needs --csaf-publisher-name and --csaf-publisher-namespace")
		}
		docs, err := csafprovider.Sources(datastore.New(a.cfg.DataDir), true)
		if err != nil {
			return fmt.Errorf("serve: CSAF provider: %w", err)
		}
		d, err := csafprovider.Build(docs, csafprovider.Options{BaseURL: f.csaf.baseURL, SecurityContacts: f.csaf.contacts,
			Publisher: csafprovider.Publisher{Category: f.csaf.category, Name: f.csaf.name, Namespace: f.csaf.namespace}})
		if err != nil {
			return usagef("CSAF provider: %v", err)
		}
		fmt.Fprintf(a.Stderr, "routerwatch: CSAF provider directory: %d documents published, %d not (see 'routerwatch advisories publish --dry-run'); metadata at %s\n",
			len(d.Published), len(d.Refused), d.ProviderMetadataURL())
		// TODO: rebuild it when the advisory data changes (csafprovider.Handler.Set); a restart does now.
		o.Public = append(o.Public, server.PublicRoute{Pattern: "/.well-known/", Handler: csafprovider.NewHandler(d)})
	}

	o.Ready = func(addr net.Addr) {
		fmt.Fprintf(a.Stderr, "routerwatch: serving https://%s/ (store %s, jobs %s with %d worker(s) here)\n",
			addr, jobs.RedactDSN(db), jc.Backend(), f.workers)
	}
	srv, err := server.New(o)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if c := srv.Certificate(); c.Fingerprint != "" {
		fmt.Fprintf(a.Stderr, "routerwatch: TLS certificate SHA-256 %s", c.Fingerprint)
		if c.SelfSigned {
			fmt.Fprintf(a.Stderr, " (self-signed, kept in %s)", a.cfg.DataDir)
		}
		fmt.Fprintln(a.Stderr)
	}
	if err := srv.Serve(ctx); err != nil {
		return err
	}
	log.Info("serve: stopped")
	return nil
}

type addUserFlags struct {
	db, org, user, role string
}

func (a *App) newServeAddUserCmd() *cobra.Command {
	f := &addUserFlags{}
	cmd := &cobra.Command{
		Use:   "adduser --org NAME --user LOGIN --role ROLE",
		Short: "Add a user (the first admin) to an organisation, creating the organisation",
		Long: `adduser adds a user to the server's store, creating the organisation when it
does not exist yet: how the first admin of a new server (or of a new customer
organisation) is made; after that, admins add users in the dashboard or the
API. The password is asked on the terminal, twice, or read from $` + envNewPassword + `
in scripts; it is never a flag. It must have at least 12 characters and not
be the login name.`,
		Example: `  routerwatch serve adduser --org acme --user alice --role admin
  ` + envNewPassword + `='…' routerwatch serve adduser --org acme --user bob --role viewer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAddUser(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "the database (as serve's --db)")
	fl.StringVar(&f.org, "org", store.DefaultOrg, "the organisation's ID (created when missing)")
	fl.StringVar(&f.user, "user", "", "the login name (required)")
	fl.StringVar(&f.role, "role", "", "admin, operator or viewer (required)")
	return cmd
}

func (a *App) runAddUser(ctx context.Context, f *addUserFlags) error {
	if f.user == "" || f.role == "" {
		return usagef("serve adduser: --user and --role are required")
	}
	role, err := auth.ParseRole(f.role)
	if err != nil {
		return usagef("--role: %v", err)
	}
	if err := store.CheckOrgID(f.org); err != nil {
		return usagef("--org: %v", err)
	}
	if err := store.CheckID("login name", f.user); err != nil {
		return usagef("--user: %v", err)
	}
	password, err := a.newPassword(f.user)
	if err != nil {
		return err
	}
	if err := auth.CheckNewPassword(f.user, password); err != nil {
		return usagef("the password: %v", err)
	}
	h, err := auth.NewHasher(auth.DefaultParams)
	if err != nil {
		return err
	}
	phc, err := h.Hash(ctx, password)
	if err != nil {
		return err
	}
	st, err := a.openFleetStore(ctx, a.fleetDB(f.db))
	if err != nil {
		return err
	}
	defer st.Close()
	actor := "cli serve adduser"
	if _, err := st.Org(ctx, f.org); errors.Is(err, store.ErrNotFound) {
		octx := store.WithAudit(ctx, store.AuditEntry{Actor: actor, Action: "org.create", Object: "org " + f.org})
		if _, err := st.CreateOrg(octx, store.Org{ID: f.org, Name: f.org}); err != nil {
			return fmt.Errorf("creating the organisation: %w", err)
		}
		fmt.Fprintf(a.Stdout, "organisation %s created\n", f.org)
	} else if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	uctx := store.WithAudit(ctx, store.AuditEntry{Actor: actor, Action: "user.create", Object: "user " + f.user, Detail: "role=" + string(role)})
	u, err := st.ForOrg(f.org).CreateUser(uctx, store.User{Name: f.user, Role: store.Role(role), PasswordHash: phc})
	if errors.Is(err, store.ErrConflict) {
		return usagef("the login name %q is taken", f.user)
	}
	if err != nil {
		return fmt.Errorf("creating the user: %w", err)
	}
	fmt.Fprintf(a.Stdout, "user %s (%s) added to organisation %s\n", u.Name, u.Role, f.org)
	return nil
}

// newPassword reads a new user's password: $ROUTERWATCH_NEW_PASSWORD, or
// twice on the terminal.
func (a *App) newPassword(login string) (string, error) {
	if pw := a.Getenv(envNewPassword); pw != "" {
		return pw, nil
	}
	in, ok := a.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", usagef("no terminal to ask the password on: set $%s", envNewPassword)
	}
	var pws [2]string
	for i, prompt := range []string{"Password for " + login + " (not shown): ", "Again: "} {
		fmt.Fprint(a.Stderr, prompt)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(a.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		pws[i] = string(b)
	}
	if pws[0] != pws[1] {
		return "", usagef("the two passwords differ")
	}
	return strings.TrimRight(pws[0], "\r\n"), nil
}
