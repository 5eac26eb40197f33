// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/advisory/feed"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

func (a *App) newAdvisoriesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "advisories",
		Short: "List, show, import, update and publish advisory data",
		Long: `Advisory data is the built-in CSAF documents plus what you import or download
into the data directory (--data-dir, default $XDG_DATA_HOME/routerwatch).
'update' is the only routerwatch command that downloads anything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newAdvisoriesListCmd(), a.newAdvisoriesShowCmd(), a.newAdvisoriesImportCmd(), a.newAdvisoriesUpdateCmd(), a.newAdvisoriesPublishCmd())
	return cmd
}

func (a *App) newAdvisoriesListCmd() *cobra.Command {
	var format, cve, vendor string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the advisories routerwatch knows",
		Example: "  routerwatch advisories list\n  routerwatch advisories list --vendor tp-link --format json\n  routerwatch advisories list --cve CVE-2023-50224",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ix, info, err := a.openAdvisories()
			if err != nil {
				return err
			}
			var rows []advisory.Advisory
			for _, adv := range ix.Advisories() {
				if cve != "" && !slices.Contains(adv.CVEs, strings.ToUpper(cve)) {
					continue
				}
				if vendor != "" && !hasVendor(adv, vendor) {
					continue
				}
				rows = append(rows, adv)
			}
			if format == "json" {
				type row struct {
					ID         string   `json:"id"`
					Source     string   `json:"source"`
					CVEs       []string `json:"cves"`
					Products   int      `json:"products"`
					Confidence string   `json:"confidence"`
					Title      string   `json:"title"`
				}
				out := []row{}
				for _, r := range rows {
					out = append(out, row{r.ID, r.Source.String(), nonNil(r.CVEs), len(r.Products), r.Confidence.String(), r.Title})
				}
				return writeJSON(a.Stdout, out)
			}
			// Every value of an imported document is escaped: advisory
			// data is anyone's to publish, and this goes to a terminal.
			fmt.Fprintf(a.Stdout, "%-16s %-8s %-16s %-8s %s\n", "ID", "SOURCE", "CVE", "PRODUCTS", "TITLE")
			for _, r := range rows {
				c := strings.Join(r.CVEs, ",")
				if c == "" {
					c = "-"
				}
				fmt.Fprintf(a.Stdout, "%-16s %-8s %-16s %-8d %s\n", termtext.Line(r.ID), r.Source, termtext.Line(c), len(r.Products), termtext.Line(r.Title))
			}
			fmt.Fprintf(a.Stdout, "\n%d advisories. Data: %s\n", len(rows), dataVersionLine(info))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&cve, "cve", "", "only advisories about this CVE")
	cmd.Flags().StringVar(&vendor, "vendor", "", "only advisories naming this vendor")
	return cmd
}

func hasVendor(adv advisory.Advisory, vendor string) bool {
	k := advisory.VendorKey(vendor)
	for _, p := range adv.Products {
		if advisory.VendorKey(p.Vendor) == k {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usagef("--format: %q is not one of text, json", f)
	}
	return nil
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *App) newAdvisoriesShowCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "show ID",
		Short:   "Show one advisory (by advisory ID or CVE ID) with every product rule and source",
		Example: "  routerwatch advisories show CVE-2025-9377\n  routerwatch advisories show RW-2026-0001 --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ix, _, err := a.openAdvisories()
			if err != nil {
				return err
			}
			want := strings.ToUpper(strings.TrimSpace(args[0]))
			var found []advisory.Advisory
			for _, adv := range ix.Advisories() {
				if strings.ToUpper(adv.ID) == want || slices.Contains(adv.CVEs, want) {
					found = append(found, adv)
				}
			}
			if len(found) == 0 {
				return usagef("advisories show: no advisory or CVE %q in the data (see 'routerwatch advisories list')", args[0])
			}
			if format == "json" {
				return writeJSON(a.Stdout, found)
			}
			for i, adv := range found {
				if i > 0 {
					fmt.Fprintln(a.Stdout)
				}
				writeAdvisoryText(a, adv, ix)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// writeAdvisoryText shows one advisory; every value from the document
// passes through termtext.Line (l), so that a hostile document can
// neither drive the terminal nor forge lines.
func writeAdvisoryText(a *App, adv advisory.Advisory, ix *advisory.Index) {
	w := a.Stdout
	l := termtext.Line
	fmt.Fprintf(w, "%s  %s\n", l(adv.ID), l(adv.Title))
	fmt.Fprintf(w, "  source: %s (%s), confidence %s\n", adv.Source, l(adv.Publisher), adv.Confidence)
	if len(adv.CVEs) > 0 {
		fmt.Fprintf(w, "  CVEs: %s\n", l(strings.Join(adv.CVEs, ", ")))
	}
	if adv.CVSS > 0 {
		fmt.Fprintf(w, "  CVSS: %.1f %s\n", adv.CVSS, l(adv.CVSSVector))
	}
	if !adv.Updated.IsZero() {
		fmt.Fprintf(w, "  updated: %s\n", adv.Updated.Format("2006-01-02"))
	}
	if adv.Summary != "" {
		fmt.Fprintf(w, "  summary: %s\n", l(adv.Summary))
	}
	for _, cve := range adv.CVEs {
		if e, ok := ix.KEV(cve); ok {
			fmt.Fprintf(w, "  CISA KEV (catalog %s): %s added %s, due %s\n", l(ix.KEVVersion()), l(cve), l(e.DateAdded), l(e.DueDate))
		}
	}
	for _, e := range adv.Exploited {
		fmt.Fprintf(w, "  exploited: %s %s added %s %s\n", l(e.CVE), l(e.Source), l(e.DateAdded), l(e.Details))
	}
	if len(adv.Products) > 0 {
		fmt.Fprintln(w, "  products:")
	}
	for _, p := range adv.Products {
		name := strings.TrimSpace(p.Vendor + " " + p.Model)
		if p.Region != "" {
			name += "(" + p.Region + ")"
		}
		if p.HWRev != "" {
			name += " V" + p.HWRev
		}
		fmt.Fprintf(w, "    %s [firmware scheme %s; builds not listed: %s]\n", l(name), p.Scheme, p.Default)
		for _, r := range p.Ranges {
			fmt.Fprintf(w, "      %-12s %s\n", r.Status, l(describeRange(r)))
		}
		if p.FixedIn != "" {
			fmt.Fprintf(w, "      fixed in %s\n", l(p.FixedIn))
		}
		if p.Remediation != "" {
			fmt.Fprintf(w, "      advice: %s\n", l(p.Remediation))
		}
	}
	for _, r := range adv.References {
		fmt.Fprintf(w, "  ref: %s %s\n", l(r.URL), l(r.Summary))
	}
	for _, wn := range adv.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", l(wn))
	}
}

func describeRange(r advisory.Range) string {
	var parts []string
	switch {
	case r.All:
		parts = append(parts, "every build")
	case r.Exact != "":
		parts = append(parts, "build "+r.Exact)
	}
	if r.Introduced != "" {
		parts = append(parts, ">= "+r.Introduced)
	}
	if r.LessThan != "" {
		parts = append(parts, "< "+r.LessThan)
	}
	if r.LessThanOrEqual != "" {
		parts = append(parts, "<= "+r.LessThanOrEqual)
	}
	if r.Text != "" {
		parts = append(parts, fmt.Sprintf("free text %q (not interpreted)", r.Text))
	}
	if r.Scheme != "" {
		parts = append(parts, "("+r.Scheme+")")
	}
	return strings.Join(parts, " ")
}

func (a *App) newAdvisoriesImportCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import CSAF 2.0 documents, CVE JSON 5 records or the CISA KEV catalog from files or directories",
		Long: `import reads each PATH (a file, or a directory searched for *.json), recognises
every document by its content, checks it (CSAF documents against the CSAF 2.0
schema) and adds it to the local store. If any document is invalid, nothing is
imported and the failing path is named. A document replaces a stored one with
the same ID. Versions a CVE record gives only in words are kept as text and
listed; they never decide a verdict.`,
		Example: "  routerwatch advisories import ./csaf/\n  routerwatch advisories import CVE-2025-9377.json known_exploited_vulnerabilities.json\n  routerwatch advisories import --dry-run ./feed/",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := collectJSON(args)
			if err != nil {
				return err
			}
			var parsed []datastore.Parsed
			var problems []string
			for _, f := range files {
				b, err := inputfile.ReadAll(f, maxImportFile)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", f, err))
					continue
				}
				abs, _ := filepath.Abs(f)
				p, err := datastore.Parse(b, abs)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", f, err))
					continue
				}
				parsed = append(parsed, p)
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintf(a.Stderr, "routerwatch: %s\n", termtext.Line(p))
				}
				return fmt.Errorf("advisories import: %d of %d files rejected; nothing was imported", len(problems), len(files))
			}
			if err := dupIDs(parsed); err != nil {
				return err
			}
			reportImport(a, parsed)
			if dryRun {
				fmt.Fprintf(a.Stdout, "dry run: %d documents checked, nothing imported\n", len(parsed))
				return nil
			}
			items := make([]datastore.Item, len(parsed))
			for i, p := range parsed {
				items[i] = p.Item
			}
			st := datastore.New(a.cfg.DataDir)
			m, err := st.Put(items, nil)
			if err != nil {
				return fmt.Errorf("advisories import: %w", err)
			}
			fmt.Fprintf(a.Stdout, "imported %d documents into %s (store now holds %d)\n", len(items), st.Dir, len(m.Entries))
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and report, import nothing")
	return cmd
}

// maxImportFile bounds one imported document: the KEV catalog is 1.3 MB,
// the largest CSAF documents a few MB.
const maxImportFile = 64 << 20

// dupIDs refuses two different files with the same document ID in one
// import: which one should win is the user's call.
func dupIDs(ps []datastore.Parsed) error {
	seen := map[string]string{}
	for _, p := range ps {
		k := string(p.Item.Kind) + " " + p.Item.ID
		if prev, ok := seen[k]; ok && prev != p.Item.Source {
			return usagef("advisories import: %s and %s both hold %s %s; import one of them", prev, p.Item.Source, p.Item.Kind, p.Item.ID)
		}
		seen[k] = p.Item.Source
	}
	return nil
}

// reportImport lists what an import or update read, its values escaped
// (termtext.Line): they come from the documents.
func reportImport(a *App, ps []datastore.Parsed) {
	l := termtext.Line
	for _, p := range ps {
		switch {
		case p.CSAF != nil:
			adv := p.CSAF.Advisory
			fmt.Fprintf(a.Stdout, "csaf  %-28s %d products, CVEs %s  (%s)\n", l(adv.ID), len(adv.Products), l(strings.Join(adv.CVEs, ",")), l(p.Item.Source))
			for _, w := range adv.Warnings {
				fmt.Fprintf(a.Stdout, "      warning: %s\n", l(w))
			}
		case p.CVE != nil:
			adv := p.CVE.Advisory
			fmt.Fprintf(a.Stdout, "cve   %-28s %d products  (%s)\n", l(adv.ID), len(adv.Products), l(p.Item.Source))
			for _, t := range p.CVE.FreeText {
				fmt.Fprintf(a.Stdout, "      free-text version kept as unknown: %s\n", l(t))
			}
			for _, w := range adv.Warnings {
				if !strings.Contains(w, "is free text") {
					fmt.Fprintf(a.Stdout, "      note: %s\n", l(w))
				}
			}
		case p.KEV != nil:
			fmt.Fprintf(a.Stdout, "kev   catalog %-20s %d entries  (%s)\n", l(p.KEV.Version), len(p.KEV.Entries), l(p.Item.Source))
			for _, v := range []string{"tplink", "mikrotik"} {
				es := p.KEV.ByVendor(v)
				if len(es) == 0 {
					continue
				}
				ids := make([]string, len(es))
				for i, e := range es {
					ids[i] = e.CVE + " (" + e.DateAdded + ")"
				}
				fmt.Fprintf(a.Stdout, "      %s in KEV: %s\n", advisory.VendorName(v), l(strings.Join(ids, ", ")))
			}
		}
	}
}

// collectJSON expands directories into their *.json files, sorted.
func collectJSON(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, usagef("advisories import: %v", err)
		}
		if !st.IsDir() {
			// A FIFO would block the read forever: regular files only.
			if err := inputfile.Check(p); err != nil {
				return nil, usagef("advisories import: %v", err)
			}
			out = append(out, p)
			continue
		}
		n := 0
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(q), ".json") {
				if err := inputfile.Check(q); err != nil {
					return usagef("advisories import: %v", err)
				}
				out = append(out, q)
				n++
			}
			return nil
		})
		var ue *usageError
		if errors.As(err, &ue) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("advisories import: %w", err)
		}
		if n == 0 {
			return nil, usagef("advisories import: %s holds no .json files", p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (a *App) newAdvisoriesUpdateCmd() *cobra.Command {
	var (
		sources []string
		timeout time.Duration
		maxDocs int
		trustCA string
		dryRun  bool
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download advisory feeds (CISA KEV, CSAF providers, ROLIE feeds) into the local store",
		Long: `update is the only routerwatch command that downloads. It fetches each source
(default: the sources in the config file, else the CISA KEV JSON feed), checks
every document (CSAF against the schema; hashes where the provider publishes
.sha256/.sha512 files) and then replaces what earlier updates stored from the
same sources, atomically: if any source fails, nothing changes.

A source is the URL of the CISA KEV JSON feed, a CSAF provider-metadata.json,
a ROLIE feed or a single CSAF document. OpenPGP signatures are not verified.`,
		Example: `  routerwatch advisories update
  routerwatch advisories update --source https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
  routerwatch advisories update --source https://mirror.example.org/.well-known/csaf/provider-metadata.json --trust-ca mirror-ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usagef("--timeout: %s is not a positive duration", timeout)
			}
			if maxDocs < 1 {
				return usagef("--max-documents: %d is not a positive number", maxDocs)
			}
			if len(sources) == 0 {
				sources = a.cfg.Advisories.Sources
			}
			if len(sources) == 0 {
				return usagef("advisories update: no sources (give --source URL or set advisories.sources in the config)")
			}
			for _, s := range sources {
				if err := config.ValidateSourceURL(s); err != nil {
					return usagef("--source: %v", err)
				}
			}
			var extraCAs []byte
			if trustCA != "" {
				b, err := inputfile.ReadAll(trustCA, maxCAFile)
				if err != nil {
					return usagef("--trust-ca: %v", err)
				}
				extraCAs = b
			}
			client, err := feed.NewHTTPClient(extraCAs)
			if err != nil {
				return usagef("--trust-ca: %s: %v", trustCA, err)
			}
			// Sources as printed and stored: credentials in a URL are
			// used to download, never shown or written to the store.
			shown := make([]string, len(sources))
			for i, s := range sources {
				shown[i] = config.RedactURL(s)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			fc := &feed.Client{HTTP: client, MaxDocuments: maxDocs, Progress: func(src string, done, total int) {
				if done == total || done%25 == 0 {
					fmt.Fprintf(a.Stderr, "  %s: %d/%d documents\n", termtext.Line(src), done, total)
				}
			}}
			var items []datastore.Item
			for i, src := range sources {
				fmt.Fprintf(a.Stderr, "fetching %s\n", termtext.Line(shown[i]))
				res, err := fc.Fetch(ctx, src)
				if err != nil {
					return fmt.Errorf("advisories update: %w; nothing was changed", err)
				}
				fmt.Fprintf(a.Stdout, "%-8s %s: %d documents (%d hash-verified, %d without a published hash)\n",
					res.Kind, termtext.Line(res.Source), len(res.Documents), res.Verified, res.Unverified)
				reportImport(a, res.Documents)
				for _, d := range res.Documents {
					items = append(items, d.Item)
				}
			}
			if err := dupIDs(items2parsed(items)); err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintf(a.Stdout, "dry run: %d documents checked, nothing stored\n", len(items))
				return nil
			}
			st := datastore.New(a.cfg.DataDir)
			m, err := st.Put(items, shown)
			if err != nil {
				return fmt.Errorf("advisories update: %w", err)
			}
			fmt.Fprintf(a.Stdout, "stored %d documents in %s (store now holds %d)\n", len(items), st.Dir, len(m.Entries))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sources, "source", nil, "feed URL (repeatable); https only, plain http only for loopback mirrors")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long (> 0)")
	f.IntVar(&maxDocs, "max-documents", feed.DefaultMaxDocuments, "refuse a source listing more documents than this (>= 1)")
	f.StringVar(&trustCA, "trust-ca", "", "PEM file of an extra CA to trust (a private mirror)")
	f.BoolVar(&dryRun, "dry-run", false, "download and check, store nothing")
	return cmd
}

// maxCAFile bounds a --trust-ca file: a PEM bundle of every public CA is
// about 200 KB.
const maxCAFile = 4 << 20

func items2parsed(items []datastore.Item) []datastore.Parsed {
	out := make([]datastore.Parsed, len(items))
	for i, it := range items {
		out[i] = datastore.Parsed{Item: it}
	}
	return out
}
