// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLabCmd is a placeholder; internal/lab provides the real command.
func (a *App) newLabCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lab",
		Short: "Run a demo network of real daemons in Linux network namespaces",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("lab: not built yet")
		},
	}
}
