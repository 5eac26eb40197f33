// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
)

// Importer reads a RouterOS /export file (compact or verbose, RouterOS 6
// or 7).
type Importer struct{}

var _ device.Importer = Importer{}

// Name implements device.Importer.
func (Importer) Name() string { return AdapterExport }

// detectWindow is how much of a file Detect reads: the header, or the
// first menu line, is at the top.
const detectWindow = 4 << 10

// topMenus are RouterOS's top-level menus, for files without a header.
var topMenus = []string{"interface", "ip", "ipv6", "system", "routing", "tool", "user", "snmp",
	"ppp", "queue", "certificate", "caps-man", "port", "mpls", "radius", "disk", "container",
	"file", "lcd", "special-login", "partitions", "console", "dude", "iot", "zerotier"}

// Detect implements device.Importer: a RouterOS header ("# … by
// RouterOS 7.16") or, without one, a first line that opens a RouterOS
// top-level menu.
func (Importer) Detect(b []byte) bool {
	if len(b) > detectWindow {
		b = b[:detectWindow]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			if headerRe.MatchString(line) {
				return true
			}
			continue
		case strings.HasPrefix(line, "/"):
			first, _, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
			first, _, _ = strings.Cut(first, "/")
			for _, m := range topMenus {
				if first == m {
					return true
				}
			}
		}
		return false
	}
	return false
}

// exportDisplay names a menu as an export writes it:
// "ip/dhcp-server/network" → "/ip dhcp-server network".
func exportDisplay(key string) string { return "/" + strings.ReplaceAll(key, "/", " ") }

// exportDates are the header's date layouts: RouterOS 6 and 7.
var exportDates = []string{"Jan/02/2006 15:04:05", "2006-01-02 15:04:05"}

// Import implements device.Importer. The Snapshot's TakenAt is the
// header's date, read as UTC (the header has no time zone), or zero.
func (Importer) Import(b []byte) (*device.Snapshot, error) {
	e, err := ParseExport(b)
	if err != nil {
		return nil, fmt.Errorf("routeros export: %v: %w", err, device.ErrFormat)
	}
	raw, n := redactExport(b, e)
	t := tablesFromExport(e)
	redactTables(t)
	cfg, warnings := mapTables(t, header{version: e.Version, model: e.Model, has: e.HasHeader}, exportDisplay)
	snap := &device.Snapshot{
		Adapter:  AdapterExport,
		Config:   cfg,
		Raw:      []device.Artifact{{Name: "export.rsc", ContentType: "text/plain", Body: raw, Redacted: n}},
		Warnings: append(slicesClone(e.Warnings), warnings...),
	}
	if !t.whole {
		snap.Warnings = append(snap.Warnings, "partial export (menus under one top-level menu): menus it does not hold are unknown")
	}
	for _, layout := range exportDates {
		// RouterOS 6 writes the month in lower case ("sep/19/2022").
		d := e.Date
		if len(d) > 0 {
			d = strings.ToUpper(d[:1]) + d[1:]
		}
		if ts, err := time.Parse(layout, d); err == nil {
			snap.TakenAt = ts.UTC()
			break
		}
	}
	return snap, nil
}

// redactTables replaces secrets in every row before the mapping sees
// them, so none can reach the Config.
func redactTables(t *tables) int {
	n := 0
	for key, m := range t.menus {
		for _, r := range m.rows {
			n += redactRow(key, r.props)
		}
	}
	return n
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
