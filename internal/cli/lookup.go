// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/lookup"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

type lookupFlags struct {
	vendor, hw, fw, region string
	format, failOn         string
}

func (a *App) newLookupCmd() *cobra.Command {
	var f lookupFlags
	cmd := &cobra.Command{
		Use:   "lookup MODEL",
		Short: "Offline advisory verdict for a router model, hardware revision and firmware build",
		Long: `lookup answers "is this router affected, and what do I do?" from the advisory
data on this machine (built in, plus what 'advisories import' and 'advisories
update' added). It never touches the network.

The model may be written loosely ("wr841n", "TL-WR841N v10", "Archer C7(EU) V2");
the hardware revision is on the label under the router ("Ver: 10.0"), the
firmware build on its status page.`,
		Example: `  routerwatch lookup TL-WR841N --hw 10
  routerwatch lookup "Archer C7" --region EU --hw 2 --fw 240926
  routerwatch lookup "TL-WR841N v12" --fw "3.16.9 Build 200409 Rel.52498n" --format json
  routerwatch lookup RB951Ui-2HnD --vendor mikrotik --fw 6.49.6`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLookup(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.vendor, "vendor", "", "vendor (tp-link, mikrotik, ...); inferred from the model when omitted")
	fl.StringVar(&f.hw, "hw", "", "hardware revision, as on the label (10, V10, 10.0)")
	fl.StringVar(&f.fw, "fw", "", "firmware build, as on the status page (\"3.16.9 Build 200409 Rel.52498n\", V12_230317, 241108, 6.49.6)")
	fl.StringVar(&f.region, "region", "", "market variant, as in TP-Link's names: EU, US, EN, UN, JP, ... (\"Archer C7(EU)\")")
	fl.StringVar(&f.format, "format", "", "output format: text or json (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when the verdict is affected at or above this severity: info, low, medium, high, critical (default high)")
	return cmd
}

func (a *App) runLookup(cmd *cobra.Command, args []string, f lookupFlags) error {
	format := f.format
	if format == "" {
		format = a.cfg.Format
	}
	if format != "text" && format != "json" {
		return usagef("--format: %q is not one of text, json", format)
	}
	failOnName := f.failOn
	if failOnName == "" {
		failOnName = a.cfg.FailOn
	}
	failOn, err := finding.ParseSeverity(failOnName)
	if err != nil {
		return usagef("--fail-on: %v", err)
	}
	id, err := identityFromArgs(args, f)
	if err != nil {
		return err
	}
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	if id, err = lookup.Resolve(ix, id); err != nil {
		return lookupUsage(err)
	}
	as := advisory.Assess(ix, id)
	switch format {
	case "json":
		err = writeLookupJSON(a.Stdout, &as, info)
	default:
		err = writeLookupText(a.Stdout, &as, info)
	}
	if err != nil {
		return err
	}
	if as.Verdict == advisory.StatusAffected && as.Severity >= failOn {
		return &findingsError{n: 1}
	}
	return nil
}

// lookupStyle words lookup.Errors the way the command line is written:
// fields as flags, whole-query problems prefixed with the command.
var lookupStyle = lookup.Style{
	Name:    func(f lookup.Field) string { return "--" + string(f) },
	Prefix:  "lookup: ",
	Example: "routerwatch lookup TL-WR841N --hw 10",
}

// lookupUsage turns a refused question into a usage error (exit 2).
func lookupUsage(err error) error {
	var le *lookup.Error
	if errors.As(err, &le) {
		return usagef("%s", le.Text(lookupStyle))
	}
	return err
}

// identityFromArgs reads MODEL (which may carry a revision and region,
// "TL-WR841N(EU) v10") and the flags; a value given both ways must agree.
func identityFromArgs(args []string, f lookupFlags) (advisory.Identity, error) {
	id, err := lookup.Parse(lookup.Query{Model: strings.Join(args, " "), Vendor: f.vendor, HW: f.hw, Region: f.region, Firmware: f.fw})
	return id, lookupUsage(err)
}

func toLookupJSON(as *advisory.Assessment, info datastore.Info) lookup.Result {
	return lookup.NewResult(as, info)
}

func writeLookupJSON(w io.Writer, as *advisory.Assessment, info datastore.Info) error {
	j := toLookupJSON(as, info)
	return j.WriteJSON(w)
}

func writeLookupText(w io.Writer, as *advisory.Assessment, info datastore.Info) error {
	j := toLookupJSON(as, info)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", as.Headline)
	fmt.Fprintf(&b, "Verdict: %s", strings.ToUpper(strings.ReplaceAll(j.Verdict, "_", " ")))
	if j.Severity != "" {
		fmt.Fprintf(&b, " (severity %s)", j.Severity)
	}
	b.WriteString("\n")
	id := as.Identity
	fmt.Fprintf(&b, "Device:  %s", orUnknown(id.DisplayName()))
	fmt.Fprintf(&b, "  hardware %s, region %s, firmware %s\n", orUnknown(id.HWRev), orUnknown(id.Region), orUnknown(id.Firmware))
	switch j.EndOfLife.Status {
	case "yes":
		date := "date not published"
		if j.EndOfLife.Date != "" {
			date = "since " + j.EndOfLife.Date
		}
		fmt.Fprintf(&b, "End of life: yes (%s; %s confidence)\n  %s\n  source: %s\n", date, j.EndOfLife.Confidence, j.EndOfLife.Detail, j.EndOfLife.SourceURL)
	default:
		b.WriteString("End of life: unknown (no source read says so for this exact device)\n")
	}
	if len(j.Advisories) > 0 {
		b.WriteString("\nAdvisories:\n")
	}
	for _, m := range j.Advisories {
		name := m.ID
		if len(m.CVEs) > 0 {
			name = strings.Join(m.CVEs, ", ")
		}
		fmt.Fprintf(&b, "  %-15s %-13s %s\n", name, strings.ReplaceAll(m.Status, "_", " "), m.Title)
		fmt.Fprintf(&b, "  %-15s %s", "", explainReason(m))
		b.WriteString("\n")
		details := []string{"severity " + m.Severity, m.Confidence + " confidence"}
		if m.Exploited != nil {
			e := "exploited in the wild: " + m.Exploited.Source
			if m.Exploited.DateAdded != "" {
				e += " since " + m.Exploited.DateAdded
			}
			details = append(details, e)
		}
		fmt.Fprintf(&b, "  %-15s %s\n", "", strings.Join(details, "; "))
		if m.SourceURL != "" {
			fmt.Fprintf(&b, "  %-15s source: %s (%s)\n", "", m.SourceURL, m.ID)
		}
	}
	if len(j.Campaigns) > 0 {
		b.WriteString("\nCampaigns:\n")
		for _, c := range j.Campaigns {
			fmt.Fprintf(&b, "  %s (%s confidence)\n    source: %s\n", c.Title, c.Confidence, c.SourceURL)
		}
	}
	if len(j.Steps) > 0 {
		b.WriteString("\nWhat to do:\n")
		for i, s := range j.Steps {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
		}
	}
	fmt.Fprintf(&b, "\nData: %s\n", dataVersionLine(info))
	// The model, region and firmware come from the command line, titles,
	// reasons and URLs from advisory documents: escape what could drive
	// the terminal; the layout's own newlines stay.
	_, err := io.WriteString(w, termtext.Text(b.String()))
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// explainReason is the match's reason in words, with the flag that
// decides it when the answer depends on what was not given.
func explainReason(m lookup.Match) string {
	if f := lookup.DecidingField(m.Reason); f != "" {
		return m.Why + ": give " + lookupStyle.Name(f)
	}
	return m.Why
}
