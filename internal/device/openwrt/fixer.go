// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// DefaultRollbackTimeout is how long rpcd keeps its undo armed after
// Apply's `uci apply`. Apply reads back and confirms within seconds; the
// margin covers services restarting on a slow router (LuCI uses 90 s).
const DefaultRollbackTimeout = 30 * time.Second

// ErrNotApplied: the router did not keep a change Apply or Restore made
// (read back different); the change was rolled back where rpcd can.
var ErrNotApplied = errors.New("openwrt: the router did not keep the change")

// Read-back after applying: uhttpd restarts when its listen addresses
// change, so the first reads may find it gone for a moment.
const (
	verifyAttempts = 6
	verifyBackoff  = 250 * time.Millisecond
)

// change is one UCI operation: set an option (a list when list is set)
// or, with values nil, delete it.
type change struct {
	config, section, option string
	values                  []string
	list                    bool
}

func (ch change) String() string {
	at := ch.config + "." + ch.section + "." + ch.option
	switch {
	case ch.values == nil:
		return "delete " + at
	case ch.list:
		return fmt.Sprintf("%s = %q", at, ch.values)
	}
	return fmt.Sprintf("%s = %q", at, ch.values[0])
}

func (ch change) method() string {
	if ch.values == nil {
		return "delete"
	}
	return "set"
}

func (ch change) args() any {
	if ch.values == nil {
		return map[string]string{"config": ch.config, "section": ch.section, "option": ch.option}
	}
	var v any = ch.values[0]
	if ch.list {
		v = ch.values
	}
	return map[string]any{"config": ch.config, "section": ch.section, "values": map[string]any{ch.option: v}}
}

func (c configs) clone() configs {
	out := configs{}
	for name, p := range c {
		out[name] = p.Clone()
	}
	return out
}

func (c configs) section(config, section string) *uci.Section {
	p := c[config]
	if p == nil {
		return nil
	}
	return p.Section(section)
}

// holds reports whether c has the option as ch leaves it.
func (c configs) holds(ch change) bool {
	s := c.section(ch.config, ch.section)
	if s == nil {
		return false
	}
	o := s.Option(ch.option)
	if ch.values == nil {
		return o == nil
	}
	return o != nil && o.List == ch.list && slices.Equal(o.Values, ch.values)
}

// apply makes ch in c, the way rpcd's uci set and delete do.
func (c configs) apply(ch change) error {
	s := c.section(ch.config, ch.section)
	if s == nil {
		return fmt.Errorf("openwrt: no section %s.%s", ch.config, ch.section)
	}
	for i, o := range s.Options {
		if o.Name != ch.option {
			continue
		}
		if ch.values == nil {
			s.Options = append(s.Options[:i], s.Options[i+1:]...)
			return nil
		}
		o.List, o.Values, o.Spans = ch.list, slices.Clone(ch.values), nil
		return nil
	}
	if ch.values != nil {
		s.Options = append(s.Options, &uci.Option{Name: ch.option, List: ch.list, Values: slices.Clone(ch.values)})
	}
	return nil
}

// planner works out the changes for settings against a simulation of
// the router's configuration, so that each step sees the ones before.
type planner struct {
	cur     configs
	changes []change
}

func (p *planner) do(ch change) error {
	if p.cur.holds(ch) {
		return nil
	}
	if err := p.cur.apply(ch); err != nil {
		return err
	}
	p.changes = append(p.changes, ch)
	return nil
}

func (p *planner) need(name string) (*uci.Package, error) {
	if pkg := p.cur[name]; pkg != nil {
		return pkg, nil
	}
	return nil, fmt.Errorf("openwrt: the %s configuration could not be read, so it cannot be changed", name)
}

func (p *planner) setting(s device.Setting) error {
	switch {
	case s.Path == "dhcp_dns":
		return p.dhcpDNS(s.DNS)
	case s.Path == "wan_dns":
		return p.wanDNS(s.DNS)
	case strings.HasPrefix(s.Path, "services."):
		name := strings.TrimSuffix(strings.TrimPrefix(s.Path, "services."), ".wan")
		if !s.Off {
			return fmt.Errorf("%w: %s: fix turns services off, never on", device.ErrUnsupported, s.Path)
		}
		switch name {
		case device.ServiceWeb, device.ServiceWebTLS, device.ServiceSSH:
			return p.closeWAN(name)
		}
		return fmt.Errorf("%w: %s: OpenWrt has no such UCI setting this adapter knows", device.ErrUnsupported, s.Path)
	}
	return fmt.Errorf("%w: %s: not a setting this adapter changes", device.ErrUnsupported, s.Path)
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// listChange sets option to vs as a list, or deletes it when vs is empty.
func listChange(config, section, option string, vs []string) change {
	if len(vs) == 0 {
		return change{config: config, section: section, option: option}
	}
	return change{config: config, section: section, option: option, values: vs, list: true}
}

// dhcpDNS makes the LAN pool hand out dns: its option-6 entry replaced,
// other DHCP options kept; the LAN address alone means no entry (dnsmasq
// then hands out the router itself).
func (p *planner) dhcpDNS(dns []netip.Addr) error {
	if len(dns) == 0 {
		return fmt.Errorf("openwrt: dhcp_dns needs at least one resolver")
	}
	for _, a := range dns {
		if !a.Is4() {
			return fmt.Errorf("openwrt: dhcp_dns: %s: DHCP option 6 carries IPv4 addresses only", a)
		}
	}
	dhcp, err := p.need("dhcp")
	if err != nil {
		return err
	}
	pool := lanPool(dhcp)
	if pool == nil {
		return fmt.Errorf("openwrt: dhcp_dns: no DHCP pool for interface 'lan'")
	}
	lan := (&mapper{c: p.cur}).lanAddress()
	self := lan.Known && len(dns) == 1 && dns[0] == lan.Value.Addr()
	for _, option := range []string{"dhcp_option", "dhcp_option_force"} {
		entries := fields(pool.Values(option))
		var keep []string
		for _, e := range entries {
			if _, isDNS := dnsOption(e); !isDNS {
				keep = append(keep, e)
			}
		}
		if option == "dhcp_option" && !self {
			keep = append(keep, "6,"+strings.Join(addrStrings(dns), ","))
		}
		if slices.Equal(keep, entries) {
			continue
		}
		if err := p.do(listChange("dhcp", pool.Name, option, keep)); err != nil {
			return err
		}
	}
	return nil
}

// wanDNS makes the router's own resolver forward to dns (empty: to the
// ISP's servers).
func (p *planner) wanDNS(dns []netip.Addr) error {
	dhcp, err := p.need("dhcp")
	if err != nil {
		return err
	}
	dm := dnsmasq(dhcp)
	if dm == nil {
		return fmt.Errorf("openwrt: wan_dns: no dnsmasq section")
	}
	plain, domain, _, err := upstreams(dm)
	if err != nil {
		return fmt.Errorf("openwrt: wan_dns: %v", err)
	}
	if opt(dm, "noresolv") == "1" {
		if len(dns) == 0 {
			return fmt.Errorf("openwrt: wan_dns: dnsmasq ignores the ISP's servers here (noresolv); give the servers to use")
		}
		return p.do(listChange("dhcp", dm.Name, "server", append(slices.Clone(domain), addrStrings(dns)...)))
	}
	network, err := p.need("network")
	if err != nil {
		return err
	}
	wan := network.Section("wan")
	if wan == nil || wan.Type != "interface" {
		return fmt.Errorf("openwrt: wan_dns: no interface 'wan'")
	}
	if len(plain) > 0 {
		if err := p.do(listChange("dhcp", dm.Name, "server", domain)); err != nil {
			return err
		}
	}
	if len(dns) > 0 {
		if err := p.do(listChange("network", "wan", "dns", addrStrings(dns))); err != nil {
			return err
		}
		return p.do(change{config: "network", section: "wan", option: "peerdns", values: []string{"0"}})
	}
	if proto := opt(wan, "proto"); proto == "static" || proto == "none" {
		return fmt.Errorf("openwrt: wan_dns: a %s WAN gets no servers from the ISP; give the servers to use", proto)
	}
	if err := p.do(change{config: "network", section: "wan", option: "dns"}); err != nil {
		return err
	}
	return p.do(change{config: "network", section: "wan", option: "peerdns"})
}

// dedicated reports whether every port a rule or redirect opens is one
// of the service's: disabling it then closes nothing else.
func dedicated(s *uci.Section, ports []uint16) bool {
	var specs []string
	switch s.Type {
	case "rule":
		specs = fields(s.Values("dest_port"))
	case "redirect":
		specs = fields(s.Values("dest_port"))
		if len(specs) == 0 {
			specs = fields(s.Values("src_dport"))
		}
	default:
		return false
	}
	if len(specs) == 0 {
		return false
	}
	for _, spec := range specs {
		if strings.HasPrefix(spec, "!") {
			return false
		}
		lo, hi, ok := strings.Cut(spec, "-")
		if !ok {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l > h {
			return false
		}
		for port := l; port <= h; port++ {
			if !slices.Contains(ports, uint16(port)) {
				return false
			}
		}
	}
	return true
}

// closeWAN stops the WAN reaching a service: by disabling the firewall
// rules and redirects that open only its ports, else by binding the
// daemon to the LAN.
func (p *planner) closeWAN(service string) error {
	closed := func() (bool, *mapper) {
		m := &mapper{c: p.cur}
		cfg := m.config()
		w := cfg.Service(service).WAN
		return w.Known && !w.Value, m
	}
	for range 64 {
		ok, m := closed()
		if ok {
			return nil
		}
		exp := m.exposures[service]
		var opener *uci.Section
		for _, v := range exp.verdicts {
			if v.t == yes && v.sec != nil && dedicated(v.sec, exp.ports) {
				opener = v.sec
				break
			}
		}
		if opener == nil {
			break
		}
		if err := p.do(change{config: "firewall", section: opener.Name, option: "enabled", values: []string{"0"}}); err != nil {
			return err
		}
	}
	var err error
	switch service {
	case device.ServiceWeb:
		err = p.bindUhttpd("listen_http")
	case device.ServiceWebTLS:
		err = p.bindUhttpd("listen_https")
	case device.ServiceSSH:
		err = p.bindDropbear()
	}
	if err != nil {
		return err
	}
	if ok, _ := closed(); !ok {
		return fmt.Errorf("openwrt: services.%s: still reachable from the WAN after the planned changes", service)
	}
	return nil
}

// bindUhttpd makes uhttpd listen on the LAN address instead of every
// address (or another one).
func (p *planner) bindUhttpd(option string) error {
	pkg, err := p.need("uhttpd")
	if err != nil {
		return err
	}
	lan := (&mapper{c: p.cur}).lanAddress()
	if !lan.Known {
		return fmt.Errorf("openwrt: cannot bind the web server to the LAN: the LAN address is unknown")
	}
	for _, s := range pkg.OfType("uhttpd") {
		entries := fields(s.Values(option))
		var out []string
		for _, e := range entries {
			l4, l6, port, err := listenAddr(e)
			if err != nil {
				return fmt.Errorf("openwrt: %s: %v", path(pkg, s, option), err)
			}
			keep := !l4.any && !l6.any
			for _, a := range append(l4.addr, l6.addr...) {
				keep = keep && (a.IsLoopback() || a == lan.Value.Addr())
			}
			v := e
			if !keep {
				v = netip.AddrPortFrom(lan.Value.Addr(), port).String()
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		if len(entries) == 0 || slices.Equal(out, entries) {
			continue
		}
		if err := p.do(listChange("uhttpd", s.Name, option, out)); err != nil {
			return err
		}
	}
	return nil
}

// bindDropbear makes each SSH instance that listens on the WAN listen on
// the LAN interface.
func (p *planner) bindDropbear() error {
	pkg, err := p.need("dropbear")
	if err != nil {
		return err
	}
	fw := newFirewall(p.cur["firewall"], p.cur["network"])
	for _, s := range pkg.OfType("dropbear") {
		if opt(s, "enable") == "0" {
			continue
		}
		iface, set := s.Get("Interface")
		if set && iface != "" && (fw == nil || !fw.inWANZone(iface)) {
			continue
		}
		if err := p.do(change{config: "dropbear", section: s.Name, option: "Interface", values: []string{"lan"}}); err != nil {
			return err
		}
	}
	return nil
}

// Apply makes the settings, confirming them only once read back.
func (a Adapter) Apply(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, settings []device.Setting) error {
	return a.session(ctx, d, t, c, func(cl *rpcClient) error {
		cfgs, _, _, err := readConfigs(ctx, cl)
		if err != nil {
			return err
		}
		p := &planner{cur: cfgs.clone()}
		for _, s := range settings {
			if err := p.setting(s); err != nil {
				return err
			}
		}
		return a.change(ctx, cl, p.changes)
	})
}

// session runs fn logged in, and logs out.
func (a Adapter) session(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, fn func(*rpcClient) error) error {
	cl, err := newClient(d, t, a.TLSConfig, c)
	if err != nil {
		return err
	}
	if err := cl.login(ctx); err != nil {
		return err
	}
	defer func() { _ = cl.logout(ctx) }()
	return fn(cl)
}

func (a Adapter) rollbackTimeout() time.Duration {
	if a.RollbackTimeout > 0 {
		return a.RollbackTimeout
	}
	return DefaultRollbackTimeout
}

// change stages changes, applies them with rpcd's rollback armed, reads
// them back and confirms, or rolls back.
func (a Adapter) change(ctx context.Context, cl *rpcClient, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	var touched []string
	for _, ch := range changes {
		if !slices.Contains(touched, ch.config) {
			touched = append(touched, ch.config)
		}
		if _, err := cl.call(ctx, "uci", ch.method(), ch.args()); err != nil {
			return fmt.Errorf("openwrt: staging %s: %w", ch, err)
		}
	}
	how, err := a.commit(ctx, cl, touched)
	if err != nil {
		return err
	}
	bad, verr := verify(ctx, cl, touched, changes)
	if verr == nil && len(bad) == 0 {
		if how == armed {
			if _, err := cl.call(ctx, "uci", "confirm", nil); err != nil {
				return fmt.Errorf("%w: applied, but the confirmation failed, so rpcd puts the configuration back after %v: %v", ErrNotApplied, a.rollbackTimeout(), err)
			}
		}
		return nil
	}
	why := verr
	if why == nil {
		var ss []string
		for _, ch := range bad {
			ss = append(ss, ch.String())
		}
		why = fmt.Errorf("read back without %s", strings.Join(ss, "; "))
	}
	switch how {
	case nothing:
		return fmt.Errorf("%w (%v); rpcd found nothing staged to apply, so nothing changed", ErrNotApplied, why)
	case committed:
		return fmt.Errorf("%w (%v); this rpcd has no uci apply to roll back with: restore the backup", ErrNotApplied, why)
	}
	if _, err := cl.call(ctx, "uci", "rollback", nil); err != nil {
		return fmt.Errorf("%w (%v); rollback failed (%v): rpcd puts the configuration back itself after %v", ErrNotApplied, why, err, a.rollbackTimeout())
	}
	return fmt.Errorf("%w (%v); rolled back", ErrNotApplied, why)
}

// How commit wrote the staged changes.
type commitMode int

const (
	// armed: `uci apply` with rollback; confirm or rollback must follow.
	armed commitMode = iota
	// committed: `uci commit` per configuration, no undo.
	committed
	// nothing: rpcd had nothing staged (the sets did not stage).
	nothing
)

// commit applies the staged changes: `uci apply` with rollback where
// rpcd has it, else `uci commit` per configuration.
func (a Adapter) commit(ctx context.Context, cl *rpcClient, touched []string) (commitMode, error) {
	args := map[string]any{"rollback": true, "timeout": int(a.rollbackTimeout() / time.Second)}
	_, err := cl.call(ctx, "uci", "apply", args)
	var ce *CallError
	switch {
	case err == nil:
		return armed, nil
	case errors.As(err, &ce) && ce.Status == StatusNoData:
		return nothing, nil
	case errors.As(err, &ce) && ce.Status == StatusPermissionDenied:
		// rpcd refuses a second apply while one awaits confirmation.
		return 0, fmt.Errorf("%w: another change awaits confirmation on the router (%v)", device.ErrBusy, err)
	case !absent(err):
		return 0, err
	}
	for _, config := range touched {
		if _, err := cl.call(ctx, "uci", "commit", map[string]string{"config": config}); err != nil {
			return 0, fmt.Errorf("openwrt: committing %s: %w", config, err)
		}
	}
	return committed, nil
}

// verify reads the touched configurations back and returns the changes
// they do not hold. Reads that fail in transport are retried: uhttpd may
// be restarting.
func verify(ctx context.Context, cl *rpcClient, touched []string, changes []change) ([]change, error) {
	var last error
	for attempt := range verifyAttempts {
		if attempt > 0 {
			t := time.NewTimer(verifyBackoff << (attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		got := configs{}
		var err error
		for _, name := range touched {
			var p *uci.Package
			if p, err = cl.uciGet(ctx, name); err != nil {
				break
			}
			got[name] = p
		}
		if err != nil {
			var ce *CallError
			var re *RPCError
			if errors.As(err, &ce) || errors.As(err, &re) || errors.Is(err, uci.ErrSyntax) {
				return nil, err
			}
			last = err
			continue
		}
		var bad []change
		for _, ch := range changes {
			if !got.holds(ch) {
				bad = append(bad, ch)
			}
		}
		return bad, nil
	}
	return nil, last
}

// What Backup records: every option Apply may change.
var tracked = []struct {
	config, sectionType string
	options             []string
}{
	{"dhcp", "dnsmasq", []string{"server", "noresolv"}},
	{"dhcp", "dhcp", []string{"dhcp_option", "dhcp_option_force"}},
	{"network", "interface", []string{"dns", "peerdns"}},
	{"firewall", "rule", []string{"enabled"}},
	{"firewall", "redirect", []string{"enabled"}},
	{"uhttpd", "uhttpd", []string{"listen_http", "listen_https"}},
	{"dropbear", "dropbear", []string{"Interface"}},
}

func isTracked(config, sectionType, option string) bool {
	for _, t := range tracked {
		if t.config == config && t.sectionType == sectionType && slices.Contains(t.options, option) {
			return true
		}
	}
	return false
}

const backupFormat = "routerwatch/openwrt-uci-options/1"

// maxBackup bounds a backup given to Restore: a router's tracked
// options are a few kilobytes.
const maxBackup = 1 << 20

type backupDoc struct {
	Format  string         `json:"format"`
	Options []backupOption `json:"options"`
}

// backupOption is one option's state: absent, a value or a list. No
// tracked option holds a secret.
type backupOption struct {
	Config  string   `json:"config"`
	Section string   `json:"section"`
	Type    string   `json:"type"`
	Option  string   `json:"option"`
	Present bool     `json:"present"`
	List    bool     `json:"list,omitempty"`
	Values  []string `json:"values,omitempty"`
}

func (o backupOption) change() change {
	ch := change{config: o.Config, section: o.Section, option: o.Option}
	if o.Present {
		ch.values, ch.list = o.Values, o.List
	}
	return ch
}

// Backup records, as JSON, every option Apply may change.
func (a Adapter) Backup(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) ([]byte, error) {
	var out []byte
	err := a.session(ctx, d, t, c, func(cl *rpcClient) error {
		cfgs, _, _, err := readConfigs(ctx, cl)
		if err != nil {
			return err
		}
		doc := backupDoc{Format: backupFormat, Options: []backupOption{}}
		for _, tr := range tracked {
			p := cfgs[tr.config]
			if p == nil {
				continue
			}
			for _, s := range p.OfType(tr.sectionType) {
				for _, name := range tr.options {
					o := backupOption{Config: tr.config, Section: s.Name, Type: s.Type, Option: name}
					if opt := s.Option(name); opt != nil {
						o.Present, o.List, o.Values = true, opt.List, slices.Clone(opt.Values)
					}
					doc.Options = append(doc.Options, o)
				}
			}
		}
		out, err = json.Marshal(doc)
		return err
	})
	return out, err
}

func decodeBackup(b []byte) (*backupDoc, error) {
	if len(b) > maxBackup {
		return nil, fmt.Errorf("%w: backup is %d bytes, more than %d", device.ErrFormat, len(b), maxBackup)
	}
	var doc backupDoc
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: openwrt backup: %v", device.ErrFormat, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: openwrt backup: data after the document", device.ErrFormat)
	}
	if doc.Format != backupFormat {
		return nil, fmt.Errorf("%w: not an openwrt backup of this adapter (format %q)", device.ErrFormat, doc.Format)
	}
	for _, o := range doc.Options {
		// Only what Backup records may be set back: a forged backup must
		// not set a password or a firewall policy.
		if !isTracked(o.Config, o.Type, o.Option) || !uci.ValidName(o.Section) {
			return nil, fmt.Errorf("%w: openwrt backup names %s.%s.%s (%s), which Backup never records", device.ErrFormat, o.Config, o.Section, o.Option, o.Type)
		}
		if o.Present && (len(o.Values) == 0 || (!o.List && len(o.Values) != 1)) {
			return nil, fmt.Errorf("%w: openwrt backup: %s.%s.%s has %d values", device.ErrFormat, o.Config, o.Section, o.Option, len(o.Values))
		}
	}
	return &doc, nil
}

// Restore sets every recorded option back, the way Apply changes them.
func (a Adapter) Restore(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, backup []byte) error {
	doc, err := decodeBackup(backup)
	if err != nil {
		return err
	}
	return a.session(ctx, d, t, c, func(cl *rpcClient) error {
		cfgs, _, _, err := readConfigs(ctx, cl)
		if err != nil {
			return err
		}
		var changes []change
		for _, o := range doc.Options {
			s := cfgs.section(o.Config, o.Section)
			if s == nil || s.Type != o.Type {
				return fmt.Errorf("openwrt: restore: section %s.%s (%s) is no longer on the router", o.Config, o.Section, o.Type)
			}
			if ch := o.change(); !cfgs.holds(ch) {
				changes = append(changes, ch)
			}
		}
		return a.change(ctx, cl, changes)
	})
}
