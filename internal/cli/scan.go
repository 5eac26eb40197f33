// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newScanCmd is a placeholder until its issue lands.
func (a *App) newScanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scan TARGETS...",
		Short: "Audit many routers (CIDRs, ranges, files)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("scan: not built yet")
		},
	}
}
