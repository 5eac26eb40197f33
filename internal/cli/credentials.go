// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
)

// Environment variables that can carry a router login. A flag never
// does: flags show in `ps` and in shell history.
const (
	envRouterUser     = "ROUTERWATCH_ROUTER_USER"
	envRouterPassword = "ROUTERWATCH_ROUTER_PASSWORD"
)

// credentialsHelp says where a router login may come from.
const credentialsHelp = `The router's login comes from, in order: a credentials file (--credentials
FILE, or credentials_file in the configuration; YAML, mode 0600:
"routers: [{target: 192.168.0.1, user: admin, password: …}]"), the environment
(` + envRouterUser + ` and ` + envRouterPassword + `), or a prompt when routerwatch runs on
a terminal. Never on the command line: arguments show in ps and in the shell's
history. The password is sent only to the router and is never logged, stored
or printed.`

// routerLogin finds the login for the router at addr: the credentials
// file (flag, else configuration), the environment, else a prompt on a
// terminal.
func (a *App) routerLogin(file string, addr netip.Addr, adapter string) (device.Credentials, error) {
	if file == "" {
		file = a.cfg.CredentialsFile
	}
	if file != "" {
		c, err := config.LoadCredentials(file)
		if err != nil {
			return device.Credentials{}, usagef("credentials: %v", err)
		}
		l, ok := c.For(addr, adapter)
		if !ok {
			return device.Credentials{}, usagef("credentials: %s has no login for %s", file, addr)
		}
		return device.Credentials{User: l.User, Password: l.Password}, nil
	}
	if pass := a.Getenv(envRouterPassword); pass != "" {
		user := a.Getenv(envRouterUser)
		if user == "" {
			user = "admin"
		}
		return device.Credentials{User: user, Password: config.NewSecret(pass)}, nil
	}
	in, ok := a.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return device.Credentials{}, usagef("no login for the router %s.\n%s", addr, credentialsHelp)
	}
	fmt.Fprintf(a.Stderr, "Router %s user [admin]: ", addr)
	user, err := bufio.NewReader(in).ReadString('\n')
	if err != nil {
		return device.Credentials{}, fmt.Errorf("reading the user name: %w", err)
	}
	user = strings.TrimSpace(user)
	if user == "" {
		user = "admin"
	}
	fmt.Fprintf(a.Stderr, "Password for %s@%s (not shown): ", user, addr)
	pass, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(a.Stderr)
	if err != nil {
		return device.Credentials{}, fmt.Errorf("reading the password: %w", err)
	}
	return device.Credentials{User: user, Password: config.NewSecret(string(pass))}, nil
}
