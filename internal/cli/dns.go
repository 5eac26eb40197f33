// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDNSCmd is a placeholder until its issue lands.
func (a *App) newDNSCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dns",
		Short: "Check the resolvers this network hands out for DNS hijacking",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("dns: not built yet")
		},
	}
}
