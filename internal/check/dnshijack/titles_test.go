// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"os"
	"testing"

	"github.com/routerwatch/routerwatch/internal/finding/findingtest"
)

// TestMain checks that every finding the tests make, the lab scenarios'
// included, is titled for its status (findingtest.TitleMain).
func TestMain(m *testing.M) { os.Exit(findingtest.TitleMain(m, Checks(), &emitted)) }
