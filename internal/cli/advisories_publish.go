// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/publish/csafprovider"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// maxKeyFile bounds a signing key or passphrase file: an armored OpenPGP
// key with a few subkeys is a few kilobytes.
const maxKeyFile = 1 << 20

type publishFlags struct {
	dir, baseURL                      string
	name, namespace, category         string
	contactDetails, issuingAuthority  string
	role, signingKey, passphraseFile  string
	securityContacts                  []string
	listOnAggregators, mirrorOnAggreg bool
	dryRun, noBuiltin                 bool
}

func (a *App) newAdvisoriesPublishCmd() *cobra.Command {
	var f publishFlags
	cmd := &cobra.Command{
		Use:   "publish --dir DIR --base-url URL --publisher-name NAME --publisher-namespace URL",
		Short: "Write a CSAF 2.0 provider directory of the advisories for a web server",
		Long: `publish writes routerwatch's advisories (the built-in CSAF documents and the
CSAF documents imported into the local store) as a CSAF 2.0 provider directory
into the web root DIR: DIR/.well-known/csaf/ with provider-metadata.json, one
folder per TLP label (white, unlabeled) and per year, SHA-256 and SHA-512 files,
index.txt, changes.csv and directory listings, and DIR/.well-known/security.txt
with its CSAF line unless the site has its own.

--no-builtin leaves out routerwatch's own documents (a vendor or CERT
publishing what it imported). Only documents that pass the CSAF 2.0 schema are published, byte for byte;
any other, and every TLP:GREEN, AMBER or RED document (the directory is
public), is listed as not published. With --signing-key every document gets an
OpenPGP signature, the key is published, and ROLIE feeds are written too.
Serve DIR over https at --base-url.`,
		Example: `  routerwatch advisories publish --dir /var/www/html --base-url https://psirt.example.com \
    --publisher-name "Example PSIRT" --publisher-namespace https://psirt.example.com \
    --security-contact mailto:psirt@example.com --signing-key csaf-signing.asc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runPublish(f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "web root to write .well-known/csaf/ into (required unless --dry-run)")
	fl.StringVar(&f.baseURL, "base-url", "", "https origin the web root is served at, e.g. https://psirt.example.com (required)")
	fl.StringVar(&f.name, "publisher-name", "", "publisher name for provider-metadata.json (required)")
	fl.StringVar(&f.namespace, "publisher-namespace", "", "publisher namespace URL, e.g. https://psirt.example.com (required)")
	fl.StringVar(&f.category, "publisher-category", "vendor", "publisher category: coordinator, discoverer, other, translator, user, vendor")
	fl.StringVar(&f.contactDetails, "publisher-contact", "", "publisher contact details")
	fl.StringVar(&f.issuingAuthority, "issuing-authority", "", "publisher issuing authority")
	fl.StringVar(&f.role, "role", csafprovider.RoleProvider, "role: csaf_publisher, csaf_provider, csaf_trusted_provider (needs --signing-key)")
	fl.StringVar(&f.signingKey, "signing-key", "", "armored OpenPGP private key file to sign the documents with")
	fl.StringVar(&f.passphraseFile, "signing-key-passphrase-file", "", "file holding the signing key's passphrase")
	fl.StringArrayVar(&f.securityContacts, "security-contact", nil, "Contact: line of security.txt (mailto:, https: or tel: URI); repeatable")
	fl.BoolVar(&f.listOnAggregators, "list-on-aggregators", true, "let CSAF aggregators list this provider")
	fl.BoolVar(&f.mirrorOnAggreg, "mirror-on-aggregators", true, "let CSAF aggregators mirror the documents")
	fl.BoolVar(&f.noBuiltin, "no-builtin", false, "publish only the documents imported into the local store, not routerwatch's built-in ones")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check and report, write nothing")
	return cmd
}

func (a *App) runPublish(f publishFlags) error {
	if f.dir == "" && !f.dryRun {
		return usagef("advisories publish: --dir is required (the web root to write .well-known/csaf/ into)")
	}
	for _, req := range []struct{ flag, value string }{{"--base-url", f.baseURL}, {"--publisher-name", f.name}, {"--publisher-namespace", f.namespace}} {
		if strings.TrimSpace(req.value) == "" {
			return usagef("advisories publish: %s is required", req.flag)
		}
	}
	o := csafprovider.Options{
		BaseURL: f.baseURL, Role: f.role, SecurityContacts: f.securityContacts,
		ListOnAggregators: f.listOnAggregators, MirrorOnAggregators: f.mirrorOnAggreg,
		Publisher: csafprovider.Publisher{Category: f.category, Name: f.name, Namespace: f.namespace,
			ContactDetails: f.contactDetails, IssuingAuthority: f.issuingAuthority},
	}
	if f.passphraseFile != "" && f.signingKey == "" {
		return usagef("advisories publish: --signing-key-passphrase-file needs --signing-key")
	}
	if f.signingKey != "" {
		key, err := inputfile.ReadAll(f.signingKey, maxKeyFile)
		if err != nil {
			return usagef("--signing-key: %v", err)
		}
		o.SigningKey = key
	}
	if f.passphraseFile != "" {
		pass, err := inputfile.ReadAll(f.passphraseFile, maxKeyFile)
		if err != nil {
			return usagef("--signing-key-passphrase-file: %v", err)
		}
		o.SigningPassphrase = bytes.TrimRight(pass, "\r\n")
	}
	docs, err := csafprovider.Sources(datastore.New(a.cfg.DataDir), !f.noBuiltin)
	if err != nil {
		return fmt.Errorf("advisories publish: %w", err)
	}
	d, err := csafprovider.Build(docs, o)
	if err != nil {
		return usagef("advisories publish: %v", err)
	}
	a.reportPublish(d)
	if f.dryRun {
		fmt.Fprintln(a.Stdout, "dry run: nothing written")
		return nil
	}
	res, err := d.WriteDir(f.dir)
	if err != nil {
		return fmt.Errorf("advisories publish: writing %s: %w", f.dir, err)
	}
	fmt.Fprintf(a.Stdout, "wrote %d files to %s\n", res.Files, termtext.Line(res.Dir))
	switch res.SecurityTxt {
	case csafprovider.SecurityTxtWritten:
		fmt.Fprintln(a.Stdout, "security.txt: written, with its CSAF line")
	case csafprovider.SecurityTxtHasCSAF:
		fmt.Fprintln(a.Stdout, "security.txt: the site's own names the provider metadata; kept")
	case csafprovider.SecurityTxtMissing:
		fmt.Fprintf(a.Stderr, "routerwatch: warning: the site's own .well-known/security.txt was kept and has no CSAF line for this directory; add this line to it (CSAF requirement 8):\nCSAF: %s\n", d.ProviderMetadataURL())
	}
	return nil
}

// reportPublish says what the directory holds and what it left out.
func (a *App) reportPublish(d *csafprovider.Directory) {
	counts := map[string]int{}
	for _, p := range d.Published {
		counts[p.TLP]++
	}
	signed := "unsigned"
	if d.Fingerprint != "" {
		signed = "signed by OpenPGP key " + d.Fingerprint
	}
	fmt.Fprintf(a.Stdout, "%d documents published (%d TLP:WHITE, %d unlabeled), %s\n", len(d.Published), counts["WHITE"], counts["UNLABELED"], signed)
	for _, p := range d.Published {
		fmt.Fprintf(a.Stdout, "  %-9s %-24s %s\n", p.TLP, termtext.Line(p.ID), termtext.Line(p.URL))
	}
	fmt.Fprintf(a.Stdout, "provider metadata: %s\n", d.ProviderMetadataURL())
	for _, r := range d.Refused {
		id := r.ID
		if id == "" {
			id = "(no ID)"
		}
		fmt.Fprintf(a.Stderr, "routerwatch: not published: %s %s: %s\n", termtext.Line(r.Source), termtext.Line(id), termtext.Line(r.Reason))
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(a.Stderr, "routerwatch: warning: %s\n", termtext.Line(w))
	}
}
