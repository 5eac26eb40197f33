// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"

	"github.com/routerwatch/routerwatch/internal/inputfile"
)

// maxCredentialsFile bounds a credentials file: a few hundred routers.
const maxCredentialsFile = 1 << 20

// ErrCredentialsMode is returned for a credentials file that others can
// read or write: a password file must be the owner's alone.
var ErrCredentialsMode = errors.New("credentials file readable or writable by others")

// Login is the owner's login for one router, or for every router when
// Target is empty.
type Login struct {
	// Target is the router's address; empty matches any router.
	Target string `yaml:"target"`
	// Adapter, when set, names the adapter this login is for.
	Adapter  string `yaml:"adapter"`
	User     string `yaml:"user"`
	Password Secret `yaml:"password"`
}

// Credentials is a credentials file: one login per router.
type Credentials struct {
	Routers []Login `yaml:"routers"`
}

// LoadCredentials reads a credentials file. It must be a regular file
// whose mode gives no permission to group or others (0600 or stricter)
// and, on Unix, owned by the user running routerwatch (or root): a
// password file anyone else can read is refused, not read. Unknown keys
// are errors, as in the configuration file.
func LoadCredentials(path string) (*Credentials, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := inputfile.Check(path); err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (mode %04o; run chmod 600 %s)", ErrCredentialsMode, st.Mode().Perm(), path)}
	}
	if err := checkOwner(path, st); err != nil {
		return nil, err
	}
	b, err := inputfile.ReadAll(path, maxCredentialsFile)
	if err != nil {
		return nil, err
	}
	var c Credentials
	if err := DecodeStrict(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, l := range c.Routers {
		switch {
		case l.Target != "":
			a, err := netip.ParseAddr(l.Target)
			if err != nil {
				return nil, fmt.Errorf("%s: routers[%d].target %q: give the router's IP address", path, i, l.Target)
			}
			c.Routers[i].Target = a.Unmap().String()
		}
		if strings.TrimSpace(l.User) == "" {
			return nil, fmt.Errorf("%s: routers[%d]: user is empty", path, i)
		}
		if strings.ContainsAny(l.User, "\x00\r\n") {
			return nil, fmt.Errorf("%s: routers[%d]: user holds a control character", path, i)
		}
	}
	return &c, nil
}

// For returns the login for the router at addr (and the adapter, when
// the entry names one): an entry for that address first, else one for
// any router.
func (c *Credentials) For(addr netip.Addr, adapter string) (Login, bool) {
	if c == nil {
		return Login{}, false
	}
	var any *Login
	for i := range c.Routers {
		l := &c.Routers[i]
		if l.Adapter != "" && adapter != "" && l.Adapter != adapter {
			continue
		}
		switch l.Target {
		case addr.Unmap().String():
			return *l, true
		case "":
			if any == nil {
				any = l
			}
		}
	}
	if any != nil {
		return *any, true
	}
	return Login{}, false
}
