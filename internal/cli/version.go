// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/buildinfo"
)

func (a *App) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the routerwatch version and the version of its advisory data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.Stdout, "routerwatch %s\n", buildinfo.String())
			_, info, err := a.openAdvisories()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "advisory data: %s\n", dataVersionLine(info))
			return nil
		},
	}
}
