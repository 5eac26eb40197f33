// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Programs that are not found on $PATH.
const (
	// progBusyboxStatic is Debian's busybox-static binary, which has the
	// telnetd applet that the dynamic busybox lacks. busybox-static conflicts
	// with busybox, so scripts/install-lab-deps extracts it instead.
	progBusyboxStatic = "busybox-static"
	// progModOpenSSL is lighttpd's TLS module.
	progModOpenSSL = "mod_openssl"
)

// BusyboxStaticEnv names the environment variable that overrides
// DefaultBusyboxStatic.
const BusyboxStaticEnv = "ROUTERWATCH_BUSYBOX_STATIC"

// DefaultBusyboxStatic is where scripts/install-lab-deps puts busybox-static.
const DefaultBusyboxStatic = "/usr/local/lib/routerwatch/busybox-static"

const modOpenSSLPath = "/usr/lib/lighttpd/mod_openssl.so"

// debPackage maps a program to the Debian package that ships it.
var debPackage = map[string]string{
	"ip":              "iproute2",
	"dnsmasq":         "dnsmasq-base",
	"unbound":         "unbound",
	"nsd":             "nsd",
	"dropbear":        "dropbear-bin",
	"dropbearkey":     "dropbear-bin",
	"lighttpd":        "lighttpd",
	progModOpenSSL:    "lighttpd-mod-openssl",
	"miniupnpd":       "miniupnpd-nftables",
	"snmpd":           "snmpd",
	"udhcpc":          "udhcpc",
	progBusyboxStatic: "busybox-static",
	"ncat":            "ncat",
	"dnsdist":         "dnsdist",
}

// MissingError reports the programs a scenario needs that are not installed,
// with the Debian packages that provide them.
type MissingError struct {
	Programs []string
	Packages []string
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("lab: missing programs: %s; install Debian packages: apt-get install -y --no-install-recommends %s",
		strings.Join(e.Programs, ", "), strings.Join(slices.DeleteFunc(slices.Clone(e.Packages), func(p string) bool { return p == "busybox-static" }), " "))
	if slices.Contains(e.Packages, "busybox-static") {
		msg += fmt.Sprintf("; busybox-static (telnetd) conflicts with busybox: run scripts/install-lab-deps, which extracts it to %s (or set %s)", DefaultBusyboxStatic, BusyboxStaticEnv)
	}
	return msg
}

// depEnv is how dependency checks see the machine (tests replace it).
type depEnv struct {
	lookPath   func(string) (string, error)
	stat       func(string) (os.FileInfo, error)
	getenv     func(string) string
	executable func() (string, error)
}

var osDepEnv = depEnv{lookPath: exec.LookPath, stat: os.Stat, getenv: os.Getenv, executable: os.Executable}

// ExecutableEnv names the environment variable that sets the routerwatch
// binary running the fakes when Options.Executable is empty.
const ExecutableEnv = "ROUTERWATCH_BIN"

// ErrNoExecutable reports that no routerwatch binary is at hand to run a
// scenario's fakes.
var ErrNoExecutable = errors.New("lab: this scenario runs fakes from the routerwatch binary, and none was found")

// Executable returns the routerwatch binary a lab runs inside its
// namespaces (the fakes, and the DNS audit of `lab demo`): explicit, else
// $ROUTERWATCH_BIN, else the running binary, but never a Go test binary.
func Executable(explicit string) (string, error) { return osDepEnv.routerwatch(explicit) }

// routerwatch returns the binary that runs the fakes: explicit, else
// $ROUTERWATCH_BIN, else the running binary. A Go test binary (name ending
// in .test) is not routerwatch: it would run tests instead of the fake.
func (e depEnv) routerwatch(explicit string) (string, error) {
	exe, from := explicit, "Options.Executable"
	if exe == "" {
		exe, from = e.getenv(ExecutableEnv), ExecutableEnv
	}
	if exe == "" {
		var err error
		if exe, err = e.executable(); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoExecutable, err)
		}
		from = "the running program"
		if strings.HasSuffix(exe, ".test") {
			return "", fmt.Errorf("%w: %s is a Go test binary; build routerwatch and set %s (labtest does this)", ErrNoExecutable, exe, ExecutableEnv)
		}
	}
	if _, err := e.stat(exe); err != nil {
		return "", fmt.Errorf("%w: %s (%s): %w", ErrNoExecutable, exe, from, err)
	}
	return exe, nil
}

// busyboxStatic returns the path of the busybox-static binary.
func (e depEnv) busyboxStatic() string {
	if p := e.getenv(BusyboxStaticEnv); p != "" {
		return p
	}
	return DefaultBusyboxStatic
}

// checkPrograms returns a *MissingError naming every program of progs that
// is not installed, nil if all are.
func (e depEnv) checkPrograms(progs []string) error {
	var miss MissingError
	for _, p := range progs {
		if slices.Contains(miss.Programs, p) {
			continue
		}
		var ok bool
		switch p {
		case progBusyboxStatic:
			_, err := e.stat(e.busyboxStatic())
			ok = err == nil
		case progModOpenSSL:
			_, err := e.stat(modOpenSSLPath)
			ok = err == nil
		default:
			_, err := e.lookPath(p)
			ok = err == nil
		}
		if !ok {
			miss.Programs = append(miss.Programs, p)
			if pkg := debPackage[p]; !slices.Contains(miss.Packages, pkg) {
				miss.Packages = append(miss.Packages, pkg)
			}
		}
	}
	if len(miss.Programs) == 0 {
		return nil
	}
	return &miss
}

// programs lists what scenario s needs: iproute2 and every service's.
func (s *Scenario) programs() []string {
	progs := []string{"ip"}
	for _, sv := range services {
		if s.HasService(sv.name) {
			progs = append(progs, sv.progs...)
		}
	}
	return progs
}

// CheckDeps reports, as a *MissingError, the programs scenario s needs that
// this machine lacks.
func CheckDeps(s *Scenario) error { return osDepEnv.checkPrograms(s.programs()) }
