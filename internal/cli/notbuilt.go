// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *App) newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Audit this network's router (identity, advisories, exposure, DNS)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("check: router identification, exposure and DNS checks are not built yet; use 'routerwatch lookup MODEL --hw REV --fw BUILD' for the advisory verdict")
		},
	}
}

func (a *App) newDNSCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dns",
		Short: "Check the resolvers this network hands out for DNS hijacking",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("dns: not built yet")
		},
	}
}

func (a *App) newScanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scan TARGETS...",
		Short: "Audit many routers (CIDRs, ranges, files)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("scan: not built yet")
		},
	}
}
