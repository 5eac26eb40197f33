// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// pullMenus are the menus a pull prints: those the export mapping reads.
// Optional ones do not exist on every router (RouterOS 6 has no
// /system/ntp/client/servers; the ipv6 package may be off): a router
// that has no such command has none of those rows, which is what the
// mapping is told, without a warning.
var pullMenus = []struct {
	key      string
	optional bool
}{
	{"system/resource", false},
	{"system/routerboard", true},
	{"system/identity", true},
	{"ip/address", false},
	{"ip/pool", false},
	{"ip/dhcp-server", false},
	{"ip/dhcp-server/network", false},
	{"ip/dhcp-client", true},
	{"ip/dns", false},
	{"ip/service", false},
	{"ip/upnp", false},
	{"snmp", false},
	{"snmp/community", false},
	{"user", false},
	{"user/group", false},
	{"ip/firewall/filter", false},
	{"ip/firewall/raw", true},
	{"ip/firewall/nat", false},
	{"interface/list", true},
	{"interface/list/member", true},
	{"ipv6/address", true},
	{"ipv6/dhcp-client", true},
	{"system/ntp/client", false},
	{"system/ntp/client/servers", true},
	{"system/logging", false},
	{"system/logging/action", false},
}

// APIPuller reads a router over the RouterOS API (TCP 8728) or API-SSL
// (8729, when Target.TLS). It is also the Fixer.
type APIPuller struct {
	// TLS configures API-SSL. Nil verifies the router's certificate
	// against the system roots, for the router's address; a router with
	// a self-signed certificate needs RootCAs (or a VerifyConnection that
	// pins it). Never skip verification: the login sends the password.
	TLS *tls.Config
	// Now stamps snapshots; nil is time.Now.
	Now func() time.Time
}

var (
	_ device.Puller = APIPuller{}
	_ device.Fixer  = APIPuller{}
)

// Name implements device.Puller.
func (APIPuller) Name() string { return AdapterAPI }

func apiDisplay(key string) string { return "/" + key + "/print" }

func now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}

// session dials, logs in, runs fn, and always closes with /quit.
func (p APIPuller) session(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, fn func(*apiClient) error) error {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	cl, err := dialAPI(ctx, d, t, p.TLS)
	if err != nil {
		return err
	}
	defer cl.close()
	if err := cl.login(c); err != nil {
		return err
	}
	return fn(cl)
}

// Pull implements device.Puller: it logs in, prints the menus, logs out.
func (p APIPuller) Pull(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) (*device.Snapshot, error) {
	var snap *device.Snapshot
	err := p.session(ctx, d, t, c, func(cl *apiClient) error {
		replies, warnings, raw, err := printMenus(cl)
		if err != nil {
			return err
		}
		snap = buildSnapshot(AdapterAPI, t, replies, apiDisplay, func(key, id string) string { return loc(id) })
		snap.Raw = raw
		snap.Warnings = append(warnings, snap.Warnings...)
		snap.TakenAt = now(p.Now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// printMenus prints every pull menu. A menu the router refuses (!trap:
// no such command on this version, no permission) is left unread with a
// warning; any other failure ends the pull.
func printMenus(cl *apiClient) (map[string][]map[string]string, []string, []device.Artifact, error) {
	replies := map[string][]map[string]string{}
	var warnings []string
	var raw []device.Artifact
	for _, m := range pullMenus {
		rep, err := cl.run("/" + m.key + "/print")
		var trap *trapError
		switch {
		case errors.As(err, &trap):
			if m.optional && strings.Contains(trap.message, "no such command") {
				replies[m.key] = []map[string]string{}
				continue
			}
			warnings = append(warnings, fmt.Sprintf("%s: %s", apiDisplay(m.key), trap.message))
			continue
		case err != nil:
			return nil, nil, nil, printErr(err)
		}
		n := 0
		for _, row := range rep.rows {
			n += redactRow(m.key, row)
		}
		replies[m.key] = rep.rows
		raw = append(raw, artifact(apiDisplay(m.key), rep.rows, n))
	}
	return replies, warnings, raw, nil
}

// printErr classifies an error of a print after login.
func printErr(err error) error {
	var fatal *fatalError
	if errors.As(err, &fatal) {
		return fmt.Errorf("%w: %w", err, device.ErrBusy)
	}
	return err
}

// loc names a printed row by its internal id.
func loc(id string) string {
	if strings.HasPrefix(id, "#") {
		return "row " + strings.TrimPrefix(id, "#")
	}
	return ".id " + id
}

// artifact records one print's rows (already redacted) as JSON with
// sorted keys.
func artifact(name string, rows []map[string]string, redactedN int) device.Artifact {
	if rows == nil {
		rows = []map[string]string{}
	}
	b, _ := json.MarshalIndent(rows, "", "  ")
	return device.Artifact{Name: name, ContentType: "application/json", Body: b, Redacted: redactedN}
}

// buildSnapshot maps printed menus into a Snapshot.
func buildSnapshot(adapter string, t device.Target, replies map[string][]map[string]string, display func(string) string, where func(key, id string) string) *device.Snapshot {
	tb := tablesFromPrints(adapter, replies, where)
	cfg, warnings := mapTables(tb, header{}, display)
	sort.Strings(warnings)
	return &device.Snapshot{Target: t.Addr, Adapter: adapter, Config: cfg, Warnings: warnings}
}

// tablesFromPrints builds tables from print replies: each reply is the
// menu's rows with every property, as the API's !re sentences or REST's
// JSON objects give them. Menus whose print failed are left out (unread).
func tablesFromPrints(adapter string, replies map[string][]map[string]string, where func(menu, id string) string) *tables {
	t := &tables{adapter: adapter, menus: map[string]*menuRows{}}
	for key, rows := range replies {
		m := t.menu(key)
		for i, props := range rows {
			id := props[".id"]
			if id == "" {
				id = "#" + strconv.Itoa(i)
			}
			r := newRow(where(key, id))
			for k, v := range props {
				r.props[k] = v
			}
			m.rows = append(m.rows, r)
		}
	}
	if res, ok := replies["system/resource"]; ok && len(res) > 0 {
		t.version = cleanVersion(res[0]["version"])
	}
	return t
}
