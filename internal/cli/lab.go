// SPDX-License-Identifier: Apache-2.0

//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// labFlags are the flags every lab subcommand shares.
type labFlags struct {
	stateDir string
}

func (a *App) newLabCmd() *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a demo network of real daemons in Linux network namespaces",
		Long: `lab builds a small network in Linux network namespaces that runs real Debian
daemons: a client (the user's laptop), a SOHO router (DHCP, DNS forwarder, SSH,
telnet, web UI, UPnP, SNMP) and an ISP that plays "the Internet" (a validating
resolver, a DNSSEC-signed zone, a trusted DoT/DoH resolver, HTTPS servers and,
in attack scenarios, the attacker's resolver and AitM server).

Scenarios are declarative (see 'routerwatch lab scenarios'). The lab is
isolated: no namespace is connected to the host's network, and nothing inside
reaches the Internet. It needs root and the packages that
scripts/install-lab-deps installs.`,
		Example: `  routerwatch lab scenarios
  sudo routerwatch lab demo --scenario apt28
  sudo routerwatch lab up --scenario apt28 --name demo
  sudo routerwatch lab exec --name demo -- dig outlook.office365.com
  sudo routerwatch lab down --name demo`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("lab: unknown command %q (one of scenarios, up, down, status, demo, exec, attack, router-dns)", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.PersistentFlags().StringVar(&f.stateDir, "state-dir", lab.DefaultStateDir, "directory of the labs' state, configurations and logs")
	cmd.AddCommand(
		a.newLabScenariosCmd(),
		a.newLabUpCmd(f),
		a.newLabDownCmd(f),
		a.newLabStatusCmd(f),
		a.newLabDemoCmd(f),
		a.newLabExecCmd(f),
		a.newLabAttackCmd(f),
		a.newLabRouterDNSCmd(f),
		a.newLabFakeCmd(),
	)
	return cmd
}

// newLabFakeCmd is the hidden command the lab runs inside a namespace for
// the daemons no real program can play (package fake). Users never call
// it; it is part of the binary so that the lab needs no extra executable.
func (a *App) newLabFakeCmd() *cobra.Command {
	var kind, config string
	cmd := &cobra.Command{
		Use:    "fake --kind KIND --config FILE",
		Short:  "Run one of the lab's fakes (started by the lab inside a namespace)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind == "" || config == "" {
				return usagef("lab fake: --kind and --config are required")
			}
			err := fake.Run(cmd.Context(), fake.Kind(kind), config, a.Stderr)
			if errors.Is(err, fake.ErrUnknownKind) || errors.Is(err, fake.ErrConfig) {
				return &usageError{err}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "hostile-dns, hostile-device, tplink-ui or routeros-api")
	cmd.Flags().StringVar(&config, "config", "", "the fake's JSON configuration, written by the lab")
	return cmd
}

// labUpError maps lab.Up's errors: an unknown scenario or bad name is a
// usage error (exit 2); not root and missing programs are "could not
// complete" (exit 3), with the message naming what to install.
func labUpError(err error) error {
	if errors.Is(err, lab.ErrUnknownScenario) || errors.Is(err, lab.ErrBadName) {
		return &usageError{err}
	}
	return err
}

func (a *App) newLabScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the lab's scenarios with their descriptions",
		Long: `scenarios lists the scenarios 'lab up', 'lab demo' and 'lab exec' accept, the
services each runs, and the roles (named addresses) of the lab.`,
		Example: `  routerwatch lab scenarios`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scs, err := lab.Scenarios()
			if err != nil {
				return err
			}
			w := a.Stdout
			for _, s := range scs {
				fmt.Fprintf(w, "%s\n", s.Name)
				fmt.Fprintf(w, "    %s\n", wrap(s.Description, 76, "    "))
				for _, h := range lab.Hosts() {
					if sv := s.Services[h]; len(sv) > 0 {
						fmt.Fprintf(w, "    %-7s %s\n", h+":", strings.Join(sv, ", "))
					}
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, "Roles (lab addresses):")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, r := range lab.Roles() {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", r, lab.RoleAddr(r), lab.RoleDoc(r))
			}
			return tw.Flush()
		},
	}
}

func (a *App) newLabUpCmd(f *labFlags) *cobra.Command {
	var scenario, name string
	cmd := &cobra.Command{
		Use:   "up --scenario NAME [--name N]",
		Short: "Start a lab and leave it running",
		Long: `up builds the scenario's network and starts its daemons, then returns and
leaves them running (detached) until 'lab down'. It prints the lab's name,
namespaces and addresses.`,
		Example: `  sudo routerwatch lab up --scenario apt28
  sudo routerwatch lab up --scenario clean --name home
  sudo ip netns exec rw-home-cli dig @203.0.113.53 outlook.office365.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenario == "" {
				return usagef("lab up: --scenario is required (one of %s)", strings.Join(lab.ScenarioNames(), ", "))
			}
			l, err := lab.Up(cmd.Context(), lab.Options{Scenario: scenario, Name: name, StateDir: f.stateDir, Keep: true, Logger: a.logger, Executable: a.Getenv(lab.ExecutableEnv)})
			if err != nil {
				return labUpError(err)
			}
			a.printLab(l)
			fmt.Fprintf(a.Stdout, "\nLab %s is up. Run commands in it with 'routerwatch lab exec --name %s --host client -- CMD'\nor 'ip netns exec %s CMD'; remove it with 'routerwatch lab down --name %s'.\n",
				l.Name(), l.Name(), l.Namespace(lab.Client), l.Name())
			return nil
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario to run (see 'lab scenarios')")
	cmd.Flags().StringVar(&name, "name", "", "lab name, 1-20 of a-z 0-9 - (default: random)")
	return cmd
}

func (a *App) newLabDownCmd(f *labFlags) *cobra.Command {
	var name string
	var all bool
	cmd := &cobra.Command{
		Use:   "down [--name N | --all]",
		Short: "Stop a lab and remove its namespaces, processes and state",
		Long: `down stops every process of a lab by PID, deletes its namespaces and state.
Without --name it removes the only running lab; --all removes every lab,
including leftovers of crashed runs.`,
		Example: `  sudo routerwatch lab down --name demo
  sudo routerwatch lab down --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && name != "" {
				return usagef("lab down: --name and --all are exclusive")
			}
			labs, err := lab.List(f.stateDir)
			if err != nil {
				return err
			}
			if name != "" {
				l, err := lab.Load(f.stateDir, name)
				if errors.Is(err, lab.ErrBadName) {
					return &usageError{err}
				}
				if err != nil {
					return err
				}
				labs = []*lab.Lab{l}
			} else if !all && len(labs) > 1 {
				var names []string
				for _, l := range labs {
					names = append(names, l.Name())
				}
				return usagef("lab down: %d labs are running (%s): pick one with --name or use --all", len(labs), strings.Join(names, ", "))
			}
			if len(labs) == 0 {
				fmt.Fprintln(a.Stdout, "no lab is running")
				return nil
			}
			var errs []error
			for _, l := range labs {
				l.SetLogger(a.logger)
				start := time.Now()
				if err := l.Down(cmd.Context()); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(a.Stdout, "lab %s (%s) removed in %.2fs\n", l.Name(), l.ScenarioName(), time.Since(start).Seconds())
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "lab to remove")
	cmd.Flags().BoolVar(&all, "all", false, "remove every lab")
	return cmd
}

func (a *App) newLabStatusCmd(f *labFlags) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "status [--name N]",
		Short: "Show the labs, their namespaces and whether their daemons run",
		Example: `  sudo routerwatch lab status
  sudo routerwatch lab status --name demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var labs []*lab.Lab
			if name != "" {
				l, err := lab.Load(f.stateDir, name)
				if errors.Is(err, lab.ErrBadName) {
					return &usageError{err}
				}
				if err != nil {
					return err
				}
				labs = []*lab.Lab{l}
			} else {
				var err error
				if labs, err = lab.List(f.stateDir); err != nil {
					return err
				}
			}
			if len(labs) == 0 {
				fmt.Fprintln(a.Stdout, "no lab is running")
				return nil
			}
			for i, l := range labs {
				if i > 0 {
					fmt.Fprintln(a.Stdout)
				}
				a.printStatus(l.Status())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "show only this lab")
	return cmd
}

func (a *App) newLabDemoCmd(f *labFlags) *cobra.Command {
	var scenario, name string
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo --scenario NAME [--keep]",
		Short: "Bring a lab up, show what it built, audit its DNS from the client, then remove it",
		Long: `demo brings the scenario up, prints its hosts, addresses and daemons, runs a
DHCP client (udhcpc) on the client and prints the lease with the DNS servers it
got, then runs the DNS audit ('routerwatch dns') on the client as a user would,
against the lab's trusted resolver (DoH and DoT, lab CA), and prints each
resolver's verdict and the headline. It removes the lab unless --keep.`,
		Example: `  sudo routerwatch lab demo --scenario apt28
  sudo routerwatch lab demo --scenario clean --keep --name home`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if scenario == "" {
				return usagef("lab demo: --scenario is required (one of %s)", strings.Join(lab.ScenarioNames(), ", "))
			}
			ctx := cmd.Context()
			start := time.Now()
			l, err := lab.Up(ctx, lab.Options{Scenario: scenario, Name: name, StateDir: f.stateDir, Keep: keep, Logger: a.logger, Executable: a.Getenv(lab.ExecutableEnv)})
			if err != nil {
				return labUpError(err)
			}
			upTime := time.Since(start)
			if !keep {
				defer func() {
					start := time.Now()
					derr := l.Down(context.WithoutCancel(ctx))
					if derr == nil {
						fmt.Fprintf(a.Stdout, "\nLab %s removed in %.2fs.\n", l.Name(), time.Since(start).Seconds())
					}
					err = errors.Join(err, derr)
				}()
			}
			fmt.Fprintf(a.Stdout, "Scenario %s: %s\n\n", scenario, wrap(l.Scenario().Description, 78, ""))
			a.printLab(l)
			fmt.Fprintf(a.Stdout, "\nUp in %.2fs.\n", upTime.Seconds())
			if err := a.demoDHCP(ctx, l); err != nil {
				return err
			}
			if keep {
				fmt.Fprintf(a.Stdout, "\nLab %s kept: 'routerwatch lab exec --name %s -- CMD' runs commands on the client;\n'routerwatch lab down --name %s' removes it.\n", l.Name(), l.Name(), l.Name())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario to run (see 'lab scenarios')")
	cmd.Flags().StringVar(&name, "name", "", "lab name (default: random)")
	cmd.Flags().BoolVar(&keep, "keep", false, "leave the lab running")
	return cmd
}

// demoDHCP runs the DHCP client and prints the lease (and the router
// advertisement), then runs the real DNS audit on the client.
func (a *App) demoDHCP(ctx context.Context, l *lab.Lab) error {
	w := a.Stdout
	start := time.Now()
	lease, err := l.DHCP(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDHCP on the client (udhcpc with the lab's own script, %.2fs):\n", time.Since(start).Seconds())
	fmt.Fprintf(w, "  address  %s, router %s, server %s, lease %s\n", lease.Addr, lease.Router, lease.ServerID, lease.Duration)
	for i, d := range lease.DNS {
		label := "secondary"
		if i == 0 {
			label = "primary"
		}
		fmt.Fprintf(w, "  dns      %-15s %-9s %s\n", d, label, roleLabel(d))
	}
	sc := l.Scenario()
	if sc != nil && sc.HasService("ra") {
		ra, err := l.RouterAdvertisement(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nIPv6 router advertisement from %s (RDNSS, RFC 8106):\n", ra.Source)
		for _, d := range ra.RDNSS {
			fmt.Fprintf(w, "  rdnss    %-15s %s\n", d, roleLabel(d))
		}
	}
	if sc == nil || !sc.HasService("trusted-resolver") {
		return nil
	}
	return a.demoAudit(ctx, l)
}

// demoAuditTimeout bounds the demo's DNS audit: the audit's own deadline
// (--timeout, 10 s) and a margin for process start on a loaded machine.
const demoAuditTimeout = 20 * time.Second

// demoReport is the part of the dns command's JSON report the demo
// prints.
type demoReport struct {
	Verdict struct {
		Headline string `json:"headline"`
	} `json:"verdict"`
	Subjects []struct {
		ID         string             `json:"id"`
		Kind       string             `json:"kind"`
		Label      string             `json:"label"`
		Verdict    string             `json:"verdict"`
		Attributes []finding.Evidence `json:"attributes"`
	} `json:"subjects"`
}

// demoAudit runs the real DNS audit on the client, as a user runs it on a
// laptop ('routerwatch dns': the client's resolv.conf, DHCP and router
// advertisements, compared with the lab's trusted resolver over DoH and
// DoT, verified against the lab CA), and prints each resolver's verdict
// and the headline. The demo has no judge of its own: the audit runs in
// its own process inside the client's namespace, like every command of
// 'lab exec'.
func (a *App) demoAudit(ctx context.Context, l *lab.Lab) error {
	w := a.Stdout
	exe, err := lab.Executable(a.Getenv(lab.ExecutableEnv))
	if err != nil {
		return err
	}
	trusted := l.Addr("trusted.resolver")
	args := []string{"dns", "--format", "json",
		"--trusted-doh", "https://" + trusted.String() + lab.DoHPath + "#" + lab.TrustedResolverName,
		"--trusted-dot", netip.AddrPortFrom(trusted, 853).String() + "#" + lab.TrustedResolverName,
		"--trust-ca", l.CAFile(),
		// The lab's own sign-in names, a name of its signed zone, and a
		// parent under which the ISP does not rewrite (every lab
		// resolver answers NXDOMAIN for the default example.com).
		"--canary", "login.example.org", "--canary", "login.corp.test",
		"--dnssec-name", "www.corp.test", "--nxdomain-parent", "example.invalid",
	}
	ctx, cancel := context.WithTimeout(ctx, demoAuditTimeout)
	defer cancel()
	cmd := l.Command(ctx, lab.Client, exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	// 0: nothing failed; 1: something did; 3: nothing to test. Each
	// still wrote its report.
	if err != nil && (!errors.As(err, &ee) || (ee.ExitCode() != ExitFindings && ee.ExitCode() != ExitIncomplete)) {
		return fmt.Errorf("lab demo: routerwatch dns on the client: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rep demoReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return fmt.Errorf("lab demo: routerwatch dns on the client wrote no report (%w): %s", err, strings.TrimSpace(stderr.String()))
	}
	fmt.Fprintf(w, "\nThe DNS audit on the client ('routerwatch dns', trusted resolver %s over DoH and DoT, lab CA; %.2fs):\n", trusted, took.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  RESOLVER\tVERDICT\tCONFIDENCE\tLAB ROLE\tFOUND AS")
	for _, s := range rep.Subjects {
		if s.Kind != "resolver" {
			continue
		}
		conf := "-"
		for _, e := range s.Attributes {
			if e.Key == "confidence" {
				conf = e.Value
			}
		}
		role := "-"
		if addr, err := netip.ParseAddr(s.ID); err == nil {
			role = firstNonEmptyString(roleLabel(addr), "-")
		}
		found := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s.Label, s.ID), " ("), ")")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.ID, s.Verdict, conf, role, found)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range rep.Subjects {
		if s.Kind != "resolver" || s.Verdict == "clean" {
			continue
		}
		for _, e := range s.Attributes {
			if e.Key == "reason" {
				// The reason that decided comes first.
				fmt.Fprintf(w, "  %s: %s\n", s.ID, wrap(e.Value, 74, "    "))
				break
			}
		}
	}
	fmt.Fprintf(w, "\n%s\n", wrap(rep.Verdict.Headline, 78, ""))
	return nil
}

func (a *App) newLabExecCmd(f *labFlags) *cobra.Command {
	var scenario, name, host string
	var down bool
	cmd := &cobra.Command{
		Use:   "exec (--scenario NAME | --name N) [--host client|router|isp] -- CMD [ARGS...]",
		Short: "Run a command inside one lab host, bringing the scenario up first if needed",
		Long: `exec runs CMD inside a lab host's network namespace (default: the client),
with the host's private /etc/resolv.conf. With --name it uses that lab; with
--scenario it uses a running lab of that scenario, or brings one up and leaves
it running (--down removes it afterwards). The command's exit status becomes
routerwatch's.`,
		Example: `  sudo routerwatch lab exec --scenario apt28 -- dig outlook.office365.com
  sudo routerwatch lab exec --scenario apt28 --host isp -- ss -lntu
  sudo routerwatch lab exec --name demo -- curl --cacert /run/routerwatch/lab/demo/ca.pem https://outlook.office365.com/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if scenario == "" && name == "" {
				return usagef("lab exec: --scenario or --name is required")
			}
			h := lab.Host(host)
			if !slices.Contains(lab.Hosts(), h) {
				return usagef("lab exec: --host %q is not one of client, router, isp", host)
			}
			if cmd.ArgsLenAtDash() != 0 {
				return usagef("lab exec: put the command after --, e.g. 'lab exec --scenario apt28 -- dig example.org'")
			}
			ctx := cmd.Context()
			l, created, err := a.findOrStartLab(ctx, f, scenario, name)
			if err != nil {
				return err
			}
			if created {
				if down {
					defer func() { _ = l.Down(context.WithoutCancel(ctx)) }()
				} else {
					fmt.Fprintf(a.Stderr, "routerwatch: started lab %s (%s); 'routerwatch lab down --name %s' removes it\n", l.Name(), l.ScenarioName(), l.Name())
				}
			}
			c := l.Command(ctx, h, args[0], args[1:]...)
			c.Stdin, c.Stdout, c.Stderr = a.Stdin, a.Stdout, a.Stderr
			err = c.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitStatusError{code: ee.ExitCode()}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario of the lab (started if none runs)")
	cmd.Flags().StringVar(&name, "name", "", "lab to use")
	cmd.Flags().StringVar(&host, "host", string(lab.Client), "host to run on: client, router or isp")
	cmd.Flags().BoolVar(&down, "down", false, "remove the lab afterwards if exec started it")
	return cmd
}

// attackNames are the attacks 'lab attack' knows.
var attackNames = []string{"dns-changer"}

func (a *App) newLabAttackCmd(f *labFlags) *cobra.Command {
	var name, resolver string
	cmd := &cobra.Command{
		Use:   "attack [--name N] dns-changer [--resolver ADDR|ROLE]",
		Short: "Attack a running lab's router the way real attackers do (scenario dns-changer)",
		Long: `attack attacks the router of a running lab from the lab's Internet (the ISP
host, source address attacker.host).

dns-changer replays what the published DNS-changer code sends to a legacy
TP-Link router (brief CONFIGS.md 1.4): with the factory credentials, through
the router's remote management on its WAN address, it reads the DHCP server
page, submits it again with the attacker's resolver as primary DNS, then
sends ManageControlRpm.htm?port=31&ip= (which turns remote management off).
The router's real DHCP server hands out that resolver from then on: a
client's next lease, and 'routerwatch dns' run on the client, see it. It needs
a scenario whose router runs the live TP-Link UI (dns-changer).
'lab router-dns --set' puts the DNS back as the owner would.`,
		Example: `  sudo routerwatch lab up --scenario dns-changer --name demo
  sudo routerwatch lab attack --name demo dns-changer
  sudo routerwatch lab exec --name demo -- routerwatch dns
  sudo routerwatch lab router-dns --name demo --reset`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(attackNames, args[0]) {
				return usagef("lab attack: unknown attack %q (one of %s)", args[0], strings.Join(attackNames, ", "))
			}
			to, err := labAddr(resolver)
			if err != nil {
				return usagef("lab attack: --resolver: %v", err)
			}
			l, err := a.pickLab(f, name, "attack")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			before, err := l.RouterDHCPDNS(ctx)
			if err != nil {
				return labLiveError(err)
			}
			if err := l.DNSChanger(ctx, to); err != nil {
				return labLiveError(err)
			}
			after, err := l.RouterDHCPDNS(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "dns-changer: the router of lab %s now hands out %s by DHCP (it handed out %s).\n"+
				"Its last request (ManageControlRpm.htm?port=31&ip=) turned remote management off. A client's next lease carries the change.\n",
				l.Name(), dnsLabel(l, after), dnsLabel(l, before))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "lab to attack (default: the only running lab)")
	cmd.Flags().StringVar(&resolver, "resolver", "attacker.resolver", "the resolver to hand out: an address or a lab role")
	return cmd
}

func (a *App) newLabRouterDNSCmd(f *labFlags) *cobra.Command {
	var name string
	var set []string
	var reset bool
	cmd := &cobra.Command{
		Use:   "router-dns [--name N] [--set ADDR|ROLE ... | --reset]",
		Short: "Show or set the DNS servers a live lab router hands out by DHCP, as its owner",
		Long: `router-dns reads the DNS servers the router of a running lab hands out by
DHCP, through the router's own live management interface (the TP-Link web
UI's DHCP page or the RouterOS API), from the client's side, as the owner
would. --set changes them (at most two on the TP-Link UI); --reset makes the
router hand out itself again. The router's real DHCP server applies the
change before the command returns. It needs a scenario with a live UI
(dns-changer, routeros-live).`,
		Example: `  sudo routerwatch lab router-dns --name demo
  sudo routerwatch lab router-dns --name demo --set isp.resolver
  sudo routerwatch lab router-dns --name demo --reset`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(set) > 0 && reset {
				return usagef("lab router-dns: --set and --reset are exclusive")
			}
			var servers []netip.Addr
			for _, v := range set {
				ad, err := labAddr(v)
				if err != nil {
					return usagef("lab router-dns: --set: %v", err)
				}
				servers = append(servers, ad)
			}
			l, err := a.pickLab(f, name, "router-dns")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if len(servers) > 0 || reset {
				if err := l.SetDHCPDNS(ctx, servers...); err != nil {
					return labLiveError(err)
				}
			}
			got, err := l.RouterDHCPDNS(ctx)
			if err != nil {
				return labLiveError(err)
			}
			fmt.Fprintf(a.Stdout, "The router of lab %s hands out %s by DHCP.\n", l.Name(), dnsLabel(l, got))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "lab whose router to use (default: the only running lab)")
	cmd.Flags().StringSliceVar(&set, "set", nil, "DNS servers to hand out, primary first: addresses or lab roles")
	cmd.Flags().BoolVar(&reset, "reset", false, "hand out the router itself again")
	return cmd
}

// labAddr parses an address or a lab role name.
func labAddr(v string) (netip.Addr, error) {
	if ad, err := netip.ParseAddr(v); err == nil {
		if !ad.Is4() {
			return netip.Addr{}, fmt.Errorf("%s is not an IPv4 address", v)
		}
		return ad, nil
	}
	if ad := lab.RoleAddr(v); ad.Is4() {
		return ad, nil
	}
	return netip.Addr{}, fmt.Errorf("%q is neither an IPv4 address nor an IPv4 role (see 'lab scenarios')", v)
}

// dnsLabel describes a router's DHCP DNS list for people.
func dnsLabel(l *lab.Lab, servers []netip.Addr) string {
	if len(servers) == 0 {
		return "itself (" + l.Addr("router.lan").String() + ")"
	}
	var out []string
	for _, s := range servers {
		if r := lab.RoleOf(s); r != "" {
			out = append(out, s.String()+" ("+r+")")
		} else {
			out = append(out, s.String())
		}
	}
	return strings.Join(out, ", ")
}

// labLiveError: a lab without a live router UI is a usage error.
func labLiveError(err error) error {
	if errors.Is(err, lab.ErrNoLiveUI) {
		return &usageError{err}
	}
	return err
}

// pickLab loads the lab named name, or the only running lab.
func (a *App) pickLab(f *labFlags, name, command string) (*lab.Lab, error) {
	if name != "" {
		l, err := lab.Load(f.stateDir, name)
		if errors.Is(err, lab.ErrBadName) {
			return nil, &usageError{err}
		}
		if err == nil {
			l.SetLogger(a.logger)
		}
		return l, err
	}
	labs, err := lab.List(f.stateDir)
	if err != nil {
		return nil, err
	}
	switch len(labs) {
	case 0:
		return nil, fmt.Errorf("lab %s: no lab is running (start one with 'lab up --scenario dns-changer')", command)
	case 1:
		labs[0].SetLogger(a.logger)
		return labs[0], nil
	}
	var names []string
	for _, l := range labs {
		names = append(names, l.Name())
	}
	return nil, usagef("lab %s: %d labs are running (%s): pick one with --name", command, len(labs), strings.Join(names, ", "))
}

// findOrStartLab returns the lab named name, else a healthy running lab of
// scenario, else a new one (created reports that).
func (a *App) findOrStartLab(ctx context.Context, f *labFlags, scenario, name string) (*lab.Lab, bool, error) {
	if scenario != "" {
		if _, err := lab.LoadScenario(scenario); err != nil {
			return nil, false, &usageError{err}
		}
	}
	if name != "" {
		l, err := lab.Load(f.stateDir, name)
		switch {
		case errors.Is(err, lab.ErrBadName):
			return nil, false, &usageError{err}
		case err == nil && scenario != "" && l.ScenarioName() != scenario:
			return nil, false, usagef("lab exec: lab %s runs scenario %s, not %s", name, l.ScenarioName(), scenario)
		case err == nil:
			return l, false, nil
		case !errors.Is(err, lab.ErrNoLab) || scenario == "":
			return nil, false, err
		}
	} else {
		labs, err := lab.List(f.stateDir)
		if err != nil {
			return nil, false, err
		}
		for _, l := range labs {
			if l.ScenarioName() == scenario && l.Status().Healthy() {
				return l, false, nil
			}
		}
	}
	l, err := lab.Up(ctx, lab.Options{Scenario: scenario, Name: name, StateDir: f.stateDir, Keep: true, Logger: a.logger, Executable: a.Getenv(lab.ExecutableEnv)})
	if err != nil {
		return nil, false, labUpError(err)
	}
	return l, true, nil
}

// printLab prints a lab's hosts, addresses and daemons.
func (a *App) printLab(l *lab.Lab) {
	w := a.Stdout
	st := l.Status()
	fmt.Fprintf(w, "Lab %s, scenario %s, state in %s\n\nHosts:\n", l.Name(), l.ScenarioName(), l.Dir())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, h := range lab.Hosts() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", h, l.Namespace(h), hostSummary(l, h))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nDaemons:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range st.Processes {
		fmt.Fprintf(tw, "  %s\t%s\tpid %d\t%s\n", p.Host, p.Service, p.PID, serviceAddr(p.Service))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nLab CA: %s\n", l.CAFile())
}

func hostSummary(l *lab.Lab, h lab.Host) string {
	s := hostSummary4(l, h)
	v6 := map[lab.Host]string{lab.Client: "client.lan6", lab.Router: "router.lan6", lab.ISP: "isp.wan6"}[h]
	if a := l.Addr(v6); a.IsValid() {
		s += "; IPv6 " + a.String()
		if h == lab.Router {
			s += ", " + l.Addr("router.wan6").String()
		}
	}
	return s
}

func hostSummary4(l *lab.Lab, h lab.Host) string {
	switch h {
	case lab.Client:
		if a := l.Addr("client.lan"); a.IsValid() {
			return fmt.Sprintf("eth0 %s/24, default via %s", a, l.Addr("router.lan"))
		}
		return "eth0 (no address until DHCP)"
	case lab.Router:
		return fmt.Sprintf("lan0 %s/24, wan0 %s/24, default via %s, forwarding on, no NAT", l.Addr("router.lan"), l.Addr("router.wan"), l.Addr("isp.wan"))
	default:
		return fmt.Sprintf("eth0 %s/24 + %s, lo %s, no default route (dead end)", l.Addr("isp.wan"), l.Addr("isp.resolver"), lab.InternetPrefix)
	}
}

// serviceAddr says where a service listens, for listings.
func serviceAddr(service string) string {
	for _, s := range lab.Services() {
		if s.Name == service {
			return s.Doc
		}
	}
	return ""
}

func (a *App) printStatus(s lab.Status) {
	w := a.Stdout
	health := "healthy"
	if !s.Healthy() {
		health = "NOT healthy"
	}
	kept := ""
	if s.Keep {
		kept = ", kept"
	}
	fmt.Fprintf(w, "lab %s: scenario %s, %s (%s%s), created %s, state %s\n", s.Name, s.Scenario, s.Phase, health, kept,
		s.Created.Local().Format(time.DateTime), s.Dir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range s.Namespaces {
		fmt.Fprintf(tw, "  namespace\t%s\t%s\t%s\n", n.Host, n.Name, yesNo(n.Exists, "exists", "MISSING"))
	}
	for _, p := range s.Processes {
		fmt.Fprintf(tw, "  process\t%s\t%s\tpid %d %s\n", p.Host, p.Service, p.PID, yesNo(p.Alive, "running", "NOT RUNNING, see "+p.Log))
	}
	_ = tw.Flush()
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func roleLabel(addrs ...netip.Addr) string {
	var out []string
	for _, a := range addrs {
		if r := lab.RoleOf(a); r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, ", ")
}

// wrap folds text at width, indenting continuation lines.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
