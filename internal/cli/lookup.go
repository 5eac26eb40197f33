// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/finding"
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
	if m, ok := ix.Resolve(id.Model); ok {
		id.Model = m.Model
		if id.Vendor == "" {
			id.Vendor = m.Vendor
		}
	}
	if !ix.Knows(id) {
		if sugg := ix.Suggest(id.Model, 5); len(sugg) > 0 {
			names := make([]string, len(sugg))
			for i, s := range sugg {
				names[i] = s.Model
			}
			return usagef("no advisory names model %q; did you mean %s?", id.Model, strings.Join(names, ", "))
		}
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

// identityFromArgs reads MODEL (which may carry a revision and region,
// "TL-WR841N(EU) v10") and the flags; a value given both ways must agree.
func identityFromArgs(args []string, f lookupFlags) (advisory.Identity, error) {
	text := strings.TrimSpace(strings.Join(args, " "))
	if text == "" {
		return advisory.Identity{}, usagef("lookup: give a model, e.g. routerwatch lookup TL-WR841N --hw 10")
	}
	pn := advisory.ParseProductName(text)
	if len(pn.Models) != 1 {
		return advisory.Identity{}, usagef("lookup: %q names %d models; give one", text, len(pn.Models))
	}
	id := advisory.Identity{Vendor: pn.Vendor, Model: pn.Models[0], HWRev: pn.HWRev, Region: pn.Region, Firmware: strings.TrimSpace(f.fw)}
	if f.vendor != "" {
		if id.Vendor != "" && advisory.VendorKey(id.Vendor) != advisory.VendorKey(f.vendor) {
			return id, usagef("lookup: the model says vendor %s but --vendor says %s", id.Vendor, f.vendor)
		}
		id.Vendor = advisory.VendorName(f.vendor)
	}
	if f.hw != "" {
		if _, _, ok := advisory.ParseHWRev(f.hw); !ok {
			return id, usagef("--hw: %q is not a hardware revision (want 10, V10 or 10.0)", f.hw)
		}
		if id.HWRev != "" && advisory.CanonicalHWRev(f.hw) != id.HWRev {
			return id, usagef("lookup: the model says hardware V%s but --hw says %s", id.HWRev, f.hw)
		}
		id.HWRev = advisory.CanonicalHWRev(f.hw)
	}
	if f.region != "" {
		r := strings.ToUpper(strings.TrimSpace(f.region))
		if !advisory.IsRegion(r) {
			return id, usagef("--region: %q is not a known market variant (known: %s)", f.region, strings.Join(advisory.Regions(), ", "))
		}
		if id.Region != "" && id.Region != r {
			return id, usagef("lookup: the model says region %s but --region says %s", id.Region, r)
		}
		id.Region = r
	}
	return id, nil
}

// Lookup JSON: stable snake_case, versioned by schema_version.
type lookupJSON struct {
	SchemaVersion int                `json:"schema_version"`
	Identity      advisory.Identity  `json:"identity"`
	Verdict       string             `json:"verdict"`
	Severity      string             `json:"severity,omitempty"`
	Exploited     bool               `json:"exploited_in_the_wild"`
	EndOfLife     eolJSON            `json:"end_of_life"`
	Headline      string             `json:"headline"`
	Advisories    []matchJSON        `json:"advisories"`
	Campaigns     []campaignJSON     `json:"campaigns"`
	Steps         []string           `json:"steps"`
	Data          lookupDataInfoJSON `json:"data"`
}

type eolJSON struct {
	Status     string `json:"status"` // "yes" or "unknown"
	Date       string `json:"date,omitempty"`
	Detail     string `json:"detail,omitempty"`
	SourceURL  string `json:"source_url,omitempty"`
	Confidence string `json:"confidence,omitempty"`
}

type kevJSON struct {
	Source    string `json:"source"`
	DateAdded string `json:"date_added,omitempty"`
	DueDate   string `json:"due_date,omitempty"`
}

type matchJSON struct {
	ID          string   `json:"id"`
	CVEs        []string `json:"cves"`
	Title       string   `json:"title"`
	Status      string   `json:"status"`
	Reason      string   `json:"reason"`
	Confidence  string   `json:"confidence"`
	Severity    string   `json:"severity"`
	CVSS        float64  `json:"cvss,omitempty"`
	FixedIn     string   `json:"fixed_in,omitempty"`
	NoFix       bool     `json:"no_fix"`
	Region      string   `json:"depends_on_region,omitempty"`
	Text        string   `json:"free_text_version,omitempty"`
	Exploited   *kevJSON `json:"exploited,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	SourceURL   string   `json:"source_url,omitempty"`
	Source      string   `json:"source"`
	// why is advisory.Match.Explain, for the text output.
	why string
}

type campaignJSON struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Confidence string `json:"confidence"`
	SourceURL  string `json:"source_url,omitempty"`
}

type lookupDataInfoJSON struct {
	Builtin      string `json:"builtin"`
	StoreDocs    int    `json:"store_documents"`
	StoreUpdated string `json:"store_updated,omitempty"`
	KEVCatalog   string `json:"kev_catalog,omitempty"`
}

func toLookupJSON(as *advisory.Assessment, info datastore.Info) lookupJSON {
	eol := as.EOL != nil && as.EOL.EOL
	out := lookupJSON{
		SchemaVersion: 1, Identity: as.Identity, Verdict: as.Verdict.String(),
		Exploited: as.Exploited, Headline: as.Headline, Steps: as.Steps,
		Advisories: []matchJSON{}, Campaigns: []campaignJSON{},
		EndOfLife: eolJSON{Status: "unknown"},
		Data: lookupDataInfoJSON{Builtin: info.BuiltinVersion, StoreDocs: info.StoreDocs,
			StoreUpdated: info.StoreUpdated, KEVCatalog: info.KEVVersion},
	}
	if as.Steps == nil {
		out.Steps = []string{}
	}
	if as.Verdict == advisory.StatusAffected {
		out.Severity = as.Severity.String()
	}
	if eol {
		out.EndOfLife = eolJSON{Status: "yes", Date: as.EOL.Date, Detail: as.EOL.Detail,
			SourceURL: as.EOL.Source, Confidence: as.EOL.Conf.String()}
	}
	for i := range as.Matches {
		m := &as.Matches[i]
		mj := matchJSON{
			ID: m.Advisory.ID, CVEs: m.Advisory.CVEs, Title: m.Advisory.Title, Status: m.Status.String(),
			Reason: m.Reason.String(), Confidence: m.Confidence.String(), Severity: m.Severity(eol).String(),
			CVSS: m.Advisory.CVSS, FixedIn: m.FixedIn, NoFix: m.NoFix, Region: m.Region, Text: m.Text,
			SourceURL: m.SourceURL(), Source: m.Advisory.Source.String(), why: m.Explain(),
		}
		if mj.CVEs == nil {
			mj.CVEs = []string{}
		}
		if m.Product != nil {
			mj.Remediation = m.Product.Remediation
		}
		switch {
		case m.KEV != nil:
			mj.Exploited = &kevJSON{Source: "CISA KEV catalog", DateAdded: m.KEV.DateAdded, DueDate: m.KEV.DueDate}
		case m.Exploited != nil:
			mj.Exploited = &kevJSON{Source: m.Exploited.Source + " (per " + m.Advisory.ID + ")", DateAdded: m.Exploited.DateAdded, DueDate: m.Exploited.DueDate}
		}
		out.Advisories = append(out.Advisories, mj)
	}
	for i := range as.Campaigns {
		m := &as.Campaigns[i]
		out.Campaigns = append(out.Campaigns, campaignJSON{ID: m.Advisory.ID, Title: m.Advisory.Title,
			Confidence: m.Confidence.String(), SourceURL: m.SourceURL()})
	}
	return out
}

func writeLookupJSON(w io.Writer, as *advisory.Assessment, info datastore.Info) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toLookupJSON(as, info))
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
func explainReason(m matchJSON) string {
	if flag, ok := decidingFlag[m.Reason]; ok {
		return m.why + ": give " + flag
	}
	return m.why
}

// decidingFlag maps the reasons that wait on a detail to lookup's flag
// for it.
var decidingFlag = map[string]string{
	advisory.ReasonNeedFirmware.String(): "--fw",
	advisory.ReasonNeedHWRev.String():    "--hw",
	advisory.ReasonNeedRegion.String():   "--region",
}
