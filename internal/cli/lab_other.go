// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLabCmd: the lab is built from Linux network namespaces.
func (a *App) newLabCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lab",
		Short: "Run a demo network of real daemons in Linux network namespaces (Linux only)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("lab: the lab needs Linux network namespaces; it is not available on this system")
		},
	}
}
