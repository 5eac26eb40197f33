// SPDX-License-Identifier: Apache-2.0

package configaudit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// FixRequest is what the owner asked to put right.
type FixRequest struct {
	// DHCPDNS, when set, is the resolver list DHCP must hand out (the
	// baseline's, or the owner's); empty means the router itself.
	DHCPDNS *[]netip.Addr
	// WANDNS, when set, is the router's own resolver list; empty means
	// the ISP's (automatic).
	WANDNS *[]netip.Addr
	// RemoteOff turns every management service reachable from the
	// Internet side off for the WAN; TelnetOff, UPnPOff, WPSOff turn those
	// services off.
	RemoteOff, TelnetOff, UPnPOff, WPSOff bool
}

// Planned is one change fix will make, in words, with how to check it
// took.
type Planned struct {
	Setting device.Setting `json:"setting"`
	// Words says the exact change: "DHCP DNS: 64.120.31.96 → 192.168.1.1".
	Words string `json:"words"`
	// done reports whether a configuration read back shows the change.
	done func(*device.Config) bool
}

// ErrNothingToFix: every setting asked for is already right.
var ErrNothingToFix = errors.New("nothing to change")

// PlanFix lists the changes that bring cur to what req asks, leaving
// out what is already right. A setting cur does not show (unknown) is
// still planned: writing it is how to be sure.
func PlanFix(cur *device.Config, req FixRequest) []Planned {
	var out []Planned
	lan := netip.Addr{}
	if cur.LAN.Known {
		lan = cur.LAN.Value.Addr()
	}
	dnsEqual := func(got device.Field[[]netip.Addr], want []netip.Addr) bool {
		if !got.Known {
			return false
		}
		w := want
		if len(w) == 0 && lan.IsValid() {
			w = []netip.Addr{lan} // the router hands out itself, normalized to its address
		}
		return slices.Equal(got.Value, w)
	}
	if req.DHCPDNS != nil {
		want := *req.DHCPDNS
		if !dnsEqual(cur.DHCPDNS, want) {
			out = append(out, Planned{Setting: device.Setting{Path: "dhcp_dns", DNS: want},
				Words: "DHCP DNS: " + fieldText(cur.DHCPDNS) + " → " + dnsText(want, "the router itself"),
				done:  func(c *device.Config) bool { return dnsEqual(c.DHCPDNS, want) }})
		}
	}
	if req.WANDNS != nil {
		want := *req.WANDNS
		already := len(want) == 0 && cur.WANDNSAuto.Known && cur.WANDNSAuto.Value ||
			len(want) > 0 && cur.WANDNSAuto.Known && !cur.WANDNSAuto.Value && cur.WANDNS.Known && slices.Equal(cur.WANDNS.Value, want)
		if !already {
			out = append(out, Planned{Setting: device.Setting{Path: "wan_dns", DNS: want},
				Words: "WAN DNS: " + fieldText(cur.WANDNS) + " → " + dnsText(want, "the ISP's (automatic)"),
				done: func(c *device.Config) bool {
					if len(want) == 0 {
						return c.WANDNSAuto.Known && c.WANDNSAuto.Value
					}
					return c.WANDNSAuto.Known && !c.WANDNSAuto.Value && c.WANDNS.Known && slices.Equal(c.WANDNS.Value, want)
				}})
		}
	}
	if req.RemoteOff {
		for _, name := range []string{device.ServiceWeb, device.ServiceWebTLS, device.ServiceSSH, device.ServiceTelnet,
			device.ServiceFTP, device.ServiceWinbox, device.ServiceAPI, device.ServiceAPISSL} {
			s, ok := cur.Services[name]
			if !ok || s.WAN.Known && !s.WAN.Value || s.Enabled.Known && !s.Enabled.Value {
				continue
			}
			out = append(out, Planned{Setting: device.Setting{Path: "services." + name + ".wan", Off: true},
				Words: "remote management of " + name + ": " + onOffField(s.WAN) + " → off",
				done: func(c *device.Config) bool {
					s := c.Service(name)
					return s.WAN.Known && !s.WAN.Value || s.Enabled.Known && !s.Enabled.Value
				}})
		}
	}
	for _, svc := range []struct {
		on   bool
		name string
	}{{req.TelnetOff, device.ServiceTelnet}, {req.UPnPOff, device.ServiceUPnP}, {req.WPSOff, device.ServiceWPS}} {
		if !svc.on {
			continue
		}
		s := cur.Service(svc.name)
		if s.Enabled.Known && !s.Enabled.Value {
			continue
		}
		name := svc.name
		out = append(out, Planned{Setting: device.Setting{Path: "services." + name, Off: true},
			Words: name + ": " + onOffField(s.Enabled) + " → off",
			done:  func(c *device.Config) bool { s := c.Service(name); return s.Enabled.Known && !s.Enabled.Value }})
	}
	return out
}

func fieldText(f device.Field[[]netip.Addr]) string {
	if !f.Known {
		return "unknown"
	}
	return dnsText(f.Value, "none")
}

func dnsText(as []netip.Addr, empty string) string {
	if len(as) == 0 {
		return empty
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

func onOffField(f device.Field[bool]) string {
	if !f.Known {
		return "unknown"
	}
	return onOff(f.Value)
}

// FixOptions say which router to change, how, and where the backup goes.
type FixOptions struct {
	Target      netip.Addr
	Port        uint16
	TLS         bool
	Adapter     string
	Credentials device.Credentials
	Plan        []Planned
	// SaveBackup keeps the backup before anything is changed; an error
	// stops the fix before the first change.
	SaveBackup func([]byte) error
	// Fixer replaces the registry's adapter (tests); nil looks Adapter up.
	Fixer   device.Fixer
	Timeout time.Duration
}

// FixResult is what a fix did.
type FixResult struct {
	// Applied are the changes made and read back.
	Applied []Planned
	// After is the configuration read back after the changes (or after
	// the restore).
	After *device.Snapshot
	// Restored is set when the changes did not read back and the backup
	// was put back.
	Restored bool
	// NotDone are the changes the read-back did not show.
	NotDone []Planned
}

// ErrVerify: the changes did not read back; the backup was restored
// (FixResult.Restored) or, when that failed too, the error says so.
var ErrVerify = errors.New("the router does not show the changes")

// ApplyFix backs the settings up (SaveBackup), makes the planned changes,
// reads the settings back and checks each one; when one did not take, it
// restores the backup and reads back again. It never touches firmware.
func ApplyFix(ctx context.Context, o FixOptions) (*FixResult, error) {
	if len(o.Plan) == 0 {
		return nil, ErrNothingToFix
	}
	fx := o.Fixer
	if fx == nil {
		var ok bool
		if fx, ok = adapters.Fixer(o.Adapter); !ok {
			return nil, fmt.Errorf("%w %q: it cannot change settings (fixers: %s)", ErrUnknownAdapter, o.Adapter, strings.Join(fixerNames(), ", "))
		}
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := o.Target.Unmap()
	d := netx.NewDialer(target.NewScope().WithAddr(addr), netx.Options{})
	t := device.Target{Addr: addr, Port: o.Port, TLS: o.TLS}
	backup, err := fx.Backup(ctx, d, t, o.Credentials)
	if err != nil {
		return nil, fmt.Errorf("backup (nothing was changed): %w", err)
	}
	if o.SaveBackup != nil {
		if err := o.SaveBackup(backup); err != nil {
			return nil, fmt.Errorf("keeping the backup (nothing was changed): %w", err)
		}
	}
	settings := make([]device.Setting, len(o.Plan))
	for i, p := range o.Plan {
		settings[i] = p.Setting
	}
	res := &FixResult{}
	applyErr := fx.Apply(ctx, d, t, o.Credentials, settings)
	after, readErr := fx.Pull(ctx, d, t, o.Credentials)
	if applyErr == nil && readErr == nil {
		res.After = after
		for _, p := range o.Plan {
			if p.done(&after.Config) {
				res.Applied = append(res.Applied, p)
			} else {
				res.NotDone = append(res.NotDone, p)
			}
		}
		if len(res.NotDone) == 0 {
			return res, nil
		}
	}
	// Something did not take: put every setting back as it was.
	if err := fx.Restore(context.WithoutCancel(ctx), d, t, o.Credentials, backup); err != nil {
		return res, fmt.Errorf("%w, and restoring the backup failed too (%v): the backup is kept; restore it by hand", errors.Join(ErrVerify, applyErr, readErr), err)
	}
	res.Restored = true
	if back, err := fx.Pull(context.WithoutCancel(ctx), d, t, o.Credentials); err == nil {
		res.After = back
	}
	why := errors.Join(applyErr, readErr)
	if why == nil {
		var ws []string
		for _, p := range res.NotDone {
			ws = append(ws, p.Words)
		}
		why = errors.New("not shown after the change: " + strings.Join(ws, "; "))
	}
	return res, fmt.Errorf("%w (%v); the backup was restored", ErrVerify, why)
}

func fixerNames() []string {
	var out []string
	for _, n := range adapters.Names() {
		if _, ok := adapters.Fixer(n); ok {
			out = append(out, n)
		}
	}
	return out
}
