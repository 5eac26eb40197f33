// SPDX-License-Identifier: Apache-2.0

package agentserver_test

import (
	"os"
	"testing"

	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
	"github.com/routerwatch/routerwatch/internal/store/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// worldMaker makes a test's world: newWorld (SQLite) or one over
// PostgreSQL.
type worldMaker func(*testing.T, func(*agentserver.Options)) *world

// eachStore runs f on both stores the server may keep its fleet in: the
// handler's ordering, isolation and alerting must not depend on which
// (SQLite for one site's server, PostgreSQL for many processes).
func eachStore(t *testing.T, f func(*testing.T, worldMaker)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newWorld) })
	t.Run("postgres", func(t *testing.T) {
		f(t, func(t *testing.T, edit func(*agentserver.Options)) *world {
			t.Helper()
			st, err := postgres.Open(t.Context(), pgtest.Start(t).NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			return newWorldOn(t, st, edit)
		})
	})
}
