// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *App) newLookupCmd() *cobra.Command {
	return &cobra.Command{Use: "lookup MODEL", Short: "Offline advisory verdict for a router model",
		RunE: func(cmd *cobra.Command, _ []string) error { return errors.New("lookup: not built yet") }}
}

func (a *App) newAdvisoriesCmd() *cobra.Command {
	return &cobra.Command{Use: "advisories", Short: "List, show, import and update advisory data",
		RunE: func(cmd *cobra.Command, _ []string) error { return errors.New("advisories: not built yet") }}
}
