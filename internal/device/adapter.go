// SPDX-License-Identifier: Apache-2.0

package device

import (
	"context"
	"errors"
	"net/netip"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// Credentials are the owner's login for one router. The password is a
// config.Secret: it never prints, logs or marshals.
type Credentials struct {
	User     string
	Password config.Secret
}

// Target is one router to read: its address, and the port of the
// adapter's service when it is not the usual one (0: the default).
type Target struct {
	Addr netip.Addr
	Port uint16
	// TLS asks for the encrypted variant where the adapter has one
	// (RouterOS API-SSL, HTTPS for REST and ubus).
	TLS bool
}

// Errors adapters return, so that callers tell a wrong password from an
// unreachable router.
var (
	// ErrAuth: the router refused the credentials.
	ErrAuth = errors.New("device: login refused")
	// ErrBusy: the router allows one admin session and another is open
	// (legacy TP-Link), or it is rate limiting logins.
	ErrBusy = errors.New("device: router busy (another session, or too many logins)")
	// ErrUnsupported: the router does not speak this adapter's protocol
	// (wrong vendor or firmware line).
	ErrUnsupported = errors.New("device: not this adapter's router")
	// ErrFormat: an offline file is not in the importer's format, or
	// is damaged.
	ErrFormat = errors.New("device: file not in this format")
)

// Puller reads a router's settings over the network. It is read-only:
// it sends nothing that changes a setting, and it logs out when it
// logged in (some routers allow one admin session).
type Puller interface {
	// Name is the adapter's name ("tplink-legacy").
	Name() string
	// Pull logs in, reads, logs out. Every connection goes through d.
	Pull(ctx context.Context, d *netx.Dialer, t Target, c Credentials) (*Snapshot, error)
}

// Importer reads a file the owner gives: a backup or an export.
type Importer interface {
	// Name is the format's name ("routeros-export").
	Name() string
	// Detect reports whether b (the whole file) looks like this format.
	Detect(b []byte) bool
	// Import reads b. Errors wrap ErrFormat.
	Import(b []byte) (*Snapshot, error)
}

// Setting is one change a Fixer can make: set the DHCP server's DNS, set
// the WAN DNS, turn a service off.
type Setting struct {
	// Path is the Config path changed ("dhcp_dns", "services.telnet").
	Path string `json:"path"`
	// DNS is the new resolver list, for dhcp_dns and wan_dns.
	DNS []netip.Addr `json:"dns,omitempty"`
	// Off turns the service at Path off.
	Off bool `json:"off,omitempty"`
}

// Fixer changes a router's settings, only when the owner asks
// (routerwatch fix --apply). It never touches firmware.
type Fixer interface {
	Puller
	// Backup returns what Restore needs to put every setting back.
	Backup(ctx context.Context, d *netx.Dialer, t Target, c Credentials) ([]byte, error)
	// Apply makes the changes.
	Apply(ctx context.Context, d *netx.Dialer, t Target, c Credentials, s []Setting) error
	// Restore puts back a Backup.
	Restore(ctx context.Context, d *netx.Dialer, t Target, c Credentials, backup []byte) error
}
