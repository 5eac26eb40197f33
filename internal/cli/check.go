// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCheckCmd is a placeholder until its issue lands.
func (a *App) newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Audit this network's router (identity, advisories, exposure, DNS)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("check: router identification, exposure and DNS checks are not built yet; use 'routerwatch lookup MODEL --hw REV --fw BUILD' for the advisory verdict")
		},
	}
}
