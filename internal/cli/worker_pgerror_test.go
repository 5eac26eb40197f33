// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// TestPGStoreError checks the message of a PostgreSQL store that could not
// be opened: it names the server (host and port, or the socket's
// directory), says whether it could be reached, still matches what it
// wraps, and never holds the DSN's password, even when the driver's own
// message would.
func TestPGStoreError(t *testing.T) {
	t.Parallel()
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tt := range []struct {
		name     string
		dsn      string
		err      error
		password string
		want     []string
	}{
		{
			name:     "password in the user info, leaked by the driver",
			dsn:      "postgres://fleet:Tr0ub4dor@db.example.test:5433/fleet",
			err:      fmt.Errorf("failed to connect to user=fleet password=Tr0ub4dor: %w", dialErr),
			password: "Tr0ub4dor",
			want:     []string{"db.example.test:5433", "could not be reached", "password=xxxxx"},
		},
		{
			name:     "password in the query, socket directory as host",
			dsn:      "postgres://fleet@/fleet?host=/run/pg&port=5434&password=c0rrect-horse",
			err:      errors.New("server said: password c0rrect-horse is wrong"),
			password: "c0rrect-horse",
			want:     []string{"/run/pg:5434", "could not be opened"},
		},
		{
			name:     "percent-encoded password",
			dsn:      "postgres://fleet:p%40ss%2Fw0rd@db.example.test/fleet",
			err:      errors.New("auth failed for p@ss/w0rd"),
			password: "p@ss/w0rd",
			want:     []string{"db.example.test", "could not be opened"},
		},
		{
			name:     "deadline",
			dsn:      "postgres://fleet:hunter22@db.example.test/fleet",
			err:      fmt.Errorf("connecting: %w", context.DeadlineExceeded),
			password: "hunter22",
			want:     []string{"could not be reached"},
		},
		{
			name:     "unparsable DSN",
			dsn:      "postgres://fleet:s3cr3t-pw@db.example.test:notaport/fleet",
			err:      fmt.Errorf("store: %w: the PostgreSQL connection string does not parse", store.ErrInvalid),
			password: "s3cr3t-pw",
			want:     []string{"(unparsable DSN)", "does not parse"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := pgStoreError(tt.dsn, tt.err)
			msg := got.Error()
			if strings.Contains(msg, tt.password) {
				t.Errorf("message has the password %q: %s", tt.password, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the error does not wrap %v", tt.err)
			}
		})
	}
}

// TestOpenFleetStoreError opens the PostgreSQL store of a DSN whose
// server cannot be reached (a Unix socket in an empty directory, so that
// nothing is dialled on any network): the error names the socket's
// directory and not the password.
func TestOpenFleetStoreError(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nothing-here")
	dsn := "postgres://fleet:Sup3rS3cret@/fleet?sslmode=disable&connect_timeout=5&host=" + dir + "&port=5432"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	a := &App{}
	st, err := a.openFleetStore(ctx, dsn)
	if err == nil {
		st.Close()
		t.Fatal("opened a store on a socket that does not exist")
	}
	msg := err.Error()
	if strings.Contains(msg, "Sup3rS3cret") {
		t.Errorf("message has the password: %s", msg)
	}
	for _, w := range []string{dir + ":5432", "could not be reached"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q: %s", w, msg)
		}
	}
}
