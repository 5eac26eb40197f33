// SPDX-License-Identifier: Apache-2.0

// Package adapters is the one registry of router-configuration adapters:
// the online pullers (and the fixers among them), in the order automatic
// detection tries them, and the importers of offline files, in the order
// format detection tries them. Adding an adapter is its own package under
// internal/device plus one line here.
package adapters

import (
	"slices"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
	"github.com/routerwatch/routerwatch/internal/device/openwrt"
	"github.com/routerwatch/routerwatch/internal/device/tplink"
)

// Pullers returns a fresh copy of every online adapter, in the order
// automatic detection tries them: the legacy TP-Link web UI (one request
// tells), the RouterOS API (its port answers or not), OpenWrt's ubus,
// and the RouterOS 7 REST API last (it shares the web port with
// RouterOS's own web UI).
func Pullers() []device.Puller {
	return []device.Puller{
		&tplink.Legacy{},
		mikrotik.APIPuller{},
		openwrt.Adapter{},
		mikrotik.RESTPuller{},
	}
}

// Importers returns every offline format, in the order detection tries
// them: the most specific first.
func Importers() []device.Importer {
	return []device.Importer{
		tplink.ConfigBin{},
		openwrt.BackupImporter{},
		mikrotik.Importer{},
		// UCI text last: it is plain text, the least specific format.
		openwrt.UCIImporter{},
	}
}

// Names returns the online adapters' names.
func Names() []string {
	var out []string
	for _, p := range Pullers() {
		out = append(out, p.Name())
	}
	return out
}

// Puller returns the online adapter called name.
func Puller(name string) (device.Puller, bool) {
	i := slices.IndexFunc(Pullers(), func(p device.Puller) bool { return p.Name() == name })
	if i < 0 {
		return nil, false
	}
	return Pullers()[i], true
}

// Fixer returns the adapter called name when it can change settings.
func Fixer(name string) (device.Fixer, bool) {
	p, ok := Puller(name)
	if !ok {
		return nil, false
	}
	f, ok := p.(device.Fixer)
	return f, ok
}

// Detect returns the importer whose format b is in, trying the most
// specific first.
func Detect(b []byte) (device.Importer, bool) {
	for _, im := range Importers() {
		if im.Detect(b) {
			return im, true
		}
	}
	return nil, false
}

// ImporterNames returns the offline formats' names.
func ImporterNames() []string {
	var out []string
	for _, im := range Importers() {
		out = append(out, im.Name())
	}
	return out
}
