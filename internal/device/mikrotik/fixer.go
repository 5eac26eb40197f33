// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// The Fixer changes, over the API, only what routerwatch fix may change:
//
//   - dhcp_dns: /ip/dhcp-server/network/set dns-server= on the network
//     the Config reads DHCP DNS from (the one holding the LAN address);
//   - wan_dns: /ip/dns/set servers=;
//   - services.<name> off: /ip/service/set disabled=yes for the /ip
//     service names, /ip/upnp/set enabled=no, /ip/dns/set
//     allow-remote-requests=no, /snmp/set enabled=no;
//   - services.<name>.wan off (remote management off): /ip/service/set
//     address=<the LAN prefix>. Restricting the service's sources, not
//     disabling it, keeps the owner's management from the LAN (and this
//     session) working and removes the Internet side whatever the
//     firewall says; the address list is the service's own, checked
//     before the firewall is consulted.
//
// It refuses, before changing anything, a setting it cannot make, and
// any change that would cut its own session: disabling the API service
// it is connected through, or restricting it to a prefix that does not
// hold the address it connects from.

// backupFormat names the Backup document's layout.
const backupFormat = "routeros-api-backup/1"

// maxBackupBytes bounds a Backup given to Restore.
const maxBackupBytes = 1 << 20

// apiBackup is what Restore needs: the values Apply may change, as the
// router printed them.
type apiBackup struct {
	Format   string          `json:"format"`
	DNS      *backupDNS      `json:"dns,omitempty"`
	Networks []backupNetwork `json:"dhcp_networks,omitempty"`
	Services []backupService `json:"services,omitempty"`
	UPnP     *backupEnabled  `json:"upnp,omitempty"`
	SNMP     *backupEnabled  `json:"snmp,omitempty"`
}

type backupDNS struct {
	Servers     string `json:"servers"`
	AllowRemote string `json:"allow_remote_requests"`
}

type backupNetwork struct {
	ID        string `json:"id"`
	Address   string `json:"address"`
	DNSServer string `json:"dns_server"`
}

type backupService struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Disabled string `json:"disabled"`
	Address  string `json:"address"`
}

type backupEnabled struct {
	Enabled string `json:"enabled"`
}

// Backup implements device.Fixer.
func (p APIPuller) Backup(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) ([]byte, error) {
	var out []byte
	err := p.session(ctx, d, t, c, func(cl *apiClient) error {
		b, err := readBackup(cl)
		if err != nil {
			return err
		}
		out, err = json.MarshalIndent(b, "", "  ")
		return err
	})
	return out, err
}

func readBackup(cl *apiClient) (*apiBackup, error) {
	b := &apiBackup{Format: backupFormat}
	rows := func(key string) ([]map[string]string, error) {
		rep, err := cl.run("/" + key + "/print")
		if err != nil {
			return nil, printErr(err)
		}
		return rep.rows, nil
	}
	dns, err := rows("ip/dns")
	if err != nil {
		return nil, err
	}
	if len(dns) > 0 {
		b.DNS = &backupDNS{Servers: dns[0]["servers"], AllowRemote: dns[0]["allow-remote-requests"]}
	}
	nets, err := rows("ip/dhcp-server/network")
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		b.Networks = append(b.Networks, backupNetwork{ID: n[".id"], Address: n["address"], DNSServer: n["dns-server"]})
	}
	svcs, err := rows("ip/service")
	if err != nil {
		return nil, err
	}
	for _, s := range svcs {
		b.Services = append(b.Services, backupService{ID: s[".id"], Name: s["name"], Disabled: s["disabled"], Address: s["address"]})
	}
	for _, x := range []struct {
		key string
		dst **backupEnabled
	}{{"ip/upnp", &b.UPnP}, {"snmp", &b.SNMP}} {
		r, err := rows(x.key)
		if err != nil {
			return nil, err
		}
		if len(r) > 0 {
			*x.dst = &backupEnabled{Enabled: r[0]["enabled"]}
		}
	}
	return b, nil
}

// command is one set to send.
type command struct {
	path  string
	attrs []string
}

// Apply implements device.Fixer.
func (p APIPuller) Apply(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, settings []device.Setting) error {
	return p.session(ctx, d, t, c, func(cl *apiClient) error {
		replies, _, _, err := printMenus(cl)
		if err != nil {
			return err
		}
		m := runMapper(tablesFromPrints(AdapterAPI, replies, func(_, id string) string { return loc(id) }), header{}, apiDisplay)
		own := device.ServiceAPI
		if t.TLS {
			own = device.ServiceAPISSL
		}
		local := localAddr(cl)
		var cmds []command
		for _, s := range settings {
			cs, err := planSetting(m, replies, s, own, local)
			if err != nil {
				return err
			}
			cmds = append(cmds, cs...)
		}
		for _, cmd := range cmds {
			if _, err := cl.run(cmd.path, cmd.attrs...); err != nil {
				return fmt.Errorf("routeros api: %s: %w", cmd.path, printErr(err))
			}
		}
		return nil
	})
}

func localAddr(cl *apiClient) netip.Addr {
	if a, ok := cl.conn.LocalAddr().(*net.TCPAddr); ok {
		if ap := a.AddrPort(); ap.IsValid() {
			return ap.Addr().Unmap()
		}
	}
	return netip.Addr{}
}

// rosService maps a Config service key back to its /ip service name.
func rosService(key string) (string, bool) {
	for _, sn := range serviceNames {
		if sn.key == key {
			return sn.ros, true
		}
	}
	return "", false
}

func idOf(replies map[string][]map[string]string, key, name string) (string, bool) {
	for _, r := range replies[key] {
		if r["name"] == name && r[".id"] != "" {
			return r[".id"], true
		}
	}
	return "", false
}

func addrList(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ",")
}

// planSetting turns one Setting into commands, refusing what it cannot
// do safely.
func planSetting(m *mapper, replies map[string][]map[string]string, s device.Setting, own string, local netip.Addr) ([]command, error) {
	switch s.Path {
	case "dhcp_dns":
		if m.dhcpNet == nil || m.dhcpNet.props[".id"] == "" {
			return nil, fmt.Errorf("routeros: no DHCP network to set dns-server on")
		}
		return []command{{"/ip/dhcp-server/network/set", []string{"=.id=" + m.dhcpNet.props[".id"], "=dns-server=" + addrList(s.DNS)}}}, nil
	case "wan_dns":
		return []command{{"/ip/dns/set", []string{"=servers=" + addrList(s.DNS)}}}, nil
	}
	rest, ok := strings.CutPrefix(s.Path, "services.")
	if !ok {
		return nil, fmt.Errorf("routeros: cannot change %q", s.Path)
	}
	if !s.Off {
		return nil, fmt.Errorf("routeros: %q: a fix only turns things off", s.Path)
	}
	name, wan := strings.CutSuffix(rest, ".wan")
	if wan {
		ros, ok := rosService(name)
		if !ok {
			return nil, fmt.Errorf("routeros: cannot restrict %q to the LAN (only /ip service services have an address list)", name)
		}
		lan := m.cfg.LAN
		if !lan.Known {
			return nil, fmt.Errorf("routeros: cannot restrict %s to the LAN: the LAN address is unknown", ros)
		}
		prefix := lan.Value.Masked()
		if name == own && (!local.IsValid() || !prefix.Contains(local)) {
			return nil, fmt.Errorf("routeros: restricting %s to %s would cut this session (it connects from %s)", ros, prefix, local)
		}
		id, ok := idOf(replies, "ip/service", ros)
		if !ok {
			return nil, fmt.Errorf("routeros: the router did not list the service %s", ros)
		}
		return []command{{"/ip/service/set", []string{"=.id=" + id, "=address=" + prefix.String()}}}, nil
	}
	switch name {
	case device.ServiceUPnP:
		return []command{{"/ip/upnp/set", []string{"=enabled=no"}}}, nil
	case device.ServiceDNS:
		return []command{{"/ip/dns/set", []string{"=allow-remote-requests=no"}}}, nil
	case device.ServiceSNMP:
		return []command{{"/snmp/set", []string{"=enabled=no"}}}, nil
	}
	ros, ok := rosService(name)
	if !ok {
		return nil, fmt.Errorf("routeros: cannot turn off %q", name)
	}
	if name == own {
		return nil, fmt.Errorf("routeros: turning off %s would cut this session; restrict it to the LAN (services.%s.wan) instead", ros, name)
	}
	id, ok := idOf(replies, "ip/service", ros)
	if !ok {
		return nil, fmt.Errorf("routeros: the router did not list the service %s", ros)
	}
	return []command{{"/ip/service/set", []string{"=.id=" + id, "=disabled=yes"}}}, nil
}

// yesNo writes a printed boolean ("true"/"false") as set takes it.
func yesNo(v string) string {
	if b, ok := parseBool(v); ok {
		if b {
			return "yes"
		}
		return "no"
	}
	return v
}

// Restore implements device.Fixer: it sets every value of the Backup
// back.
func (p APIPuller) Restore(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, backup []byte) error {
	if len(backup) > maxBackupBytes {
		return fmt.Errorf("routeros: backup of %d bytes is larger than %d: %w", len(backup), maxBackupBytes, device.ErrFormat)
	}
	var b apiBackup
	if err := json.Unmarshal(backup, &b); err != nil {
		return fmt.Errorf("routeros: backup: %v: %w", err, device.ErrFormat)
	}
	if b.Format != backupFormat {
		return fmt.Errorf("routeros: backup format %q, want %q: %w", b.Format, backupFormat, device.ErrFormat)
	}
	var cmds []command
	if b.DNS != nil {
		cmds = append(cmds, command{"/ip/dns/set", []string{"=servers=" + b.DNS.Servers, "=allow-remote-requests=" + yesNo(b.DNS.AllowRemote)}})
	}
	for _, n := range b.Networks {
		cmds = append(cmds, command{"/ip/dhcp-server/network/set", []string{"=.id=" + n.ID, "=dns-server=" + n.DNSServer}})
	}
	for _, s := range b.Services {
		cmds = append(cmds, command{"/ip/service/set", []string{"=.id=" + s.ID, "=disabled=" + yesNo(s.Disabled), "=address=" + s.Address}})
	}
	if b.UPnP != nil {
		cmds = append(cmds, command{"/ip/upnp/set", []string{"=enabled=" + yesNo(b.UPnP.Enabled)}})
	}
	if b.SNMP != nil {
		cmds = append(cmds, command{"/snmp/set", []string{"=enabled=" + yesNo(b.SNMP.Enabled)}})
	}
	// Words are length-prefixed: a value cannot smuggle another
	// attribute, whatever it holds.
	return p.session(ctx, d, t, c, func(cl *apiClient) error {
		for _, cmd := range cmds {
			if _, err := cl.run(cmd.path, cmd.attrs...); err != nil {
				return fmt.Errorf("routeros api: restore %s: %w", cmd.path, printErr(err))
			}
		}
		return nil
	})
}
