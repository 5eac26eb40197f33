// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const credFile = `routers:
  - target: 192.168.0.1
    adapter: tplink-legacy
    user: admin
    password: "s3cret-1"
  - user: owner
    password: "s3cret-any"
`

func writeCred(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCredentials(t *testing.T) {
	c, err := LoadCredentials(writeCred(t, credFile, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, addr, adapter, user, pass string
	}{
		{"exact_target", "192.168.0.1", "", "admin", "s3cret-1"},
		{"exact_target_adapter", "192.168.0.1", "tplink-legacy", "admin", "s3cret-1"},
		{"other_adapter_falls_back", "192.168.0.1", "routeros-api", "owner", "s3cret-any"},
		{"any_router", "10.0.0.1", "", "owner", "s3cret-any"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := c.For(netip.MustParseAddr(tc.addr), tc.adapter)
			if !ok || l.User != tc.user || l.Password.Reveal() != tc.pass {
				t.Errorf("For = %v, %v", l.User, ok)
			}
		})
	}
	// The password never prints.
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "s3cret") {
		t.Errorf("credentials print their password: %s", s)
	}
}

func TestLoadCredentialsRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		mode os.FileMode
		want string
	}{
		{"group_readable", credFile, 0o640, "readable or writable by others"},
		{"world_readable", credFile, 0o644, "chmod 600"},
		{"unknown_key", "routers:\n  - user: a\n    pasword: s3cret-typo\n", 0o600, "pasword"},
		{"syntax_error_near_password", "routers:\n  - user: a\n    password: [s3cret-typo\n", 0o600, "c"},
		{"bad_target", "routers:\n  - target: router.lan\n    user: a\n", 0o600, "give the router's IP address"},
		{"empty_user", "routers:\n  - target: 192.168.0.1\n    password: x\n", 0o600, "user is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCredentials(writeCred(t, tc.body, tc.mode))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadCredentials = %v, want an error with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
	if _, err := LoadCredentials(writeCred(t, credFile, 0o644)); !errors.Is(err, ErrCredentialsMode) {
		t.Errorf("mode error not ErrCredentialsMode: %v", err)
	}
}
