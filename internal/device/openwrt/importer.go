// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	stdpath "path"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

// Backup bounds. A sysupgrade backup holds /etc/config and a few other
// files: tens of kilobytes. The expansion bound is what makes a gzip
// bomb fail after a fraction of a second instead of filling memory or
// running for minutes.
const (
	MaxBackupSize     = 16 << 20 // compressed
	maxBackupExpanded = 64 << 20 // the whole tar stream
	maxBackupEntries  = 10000
	// detectExpanded and detectEntries bound Detect, which only looks
	// for an etc/config entry near the start.
	detectExpanded = 4 << 20
	detectEntries  = 256
)

var errExpanded = errors.New("expands beyond the bound")

// capped reads at most left bytes, then fails: a bound on decompression.
type capped struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.exceeded = true
		return 0, errExpanded
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// backupFile is one etc/config file of a backup.
type backupFile struct {
	name string // "dhcp"
	data []byte
}

// walkBackup calls fn for each regular file under etc/config/ of the
// tar.gz b, within the bounds; fn returning false stops the walk.
func walkBackup(b []byte, maxExpanded int64, maxEntries int, fn func(backupFile) bool) ([]string, error) {
	if len(b) > MaxBackupSize {
		return nil, fmt.Errorf("%w: backup is %d bytes, more than %d", device.ErrFormat, len(b), MaxBackupSize)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return nil, fmt.Errorf("%w: not a gzip file", device.ErrFormat)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %v", device.ErrFormat, err)
	}
	cr := &capped{r: zr, left: maxExpanded}
	tr := tar.NewReader(cr)
	var warnings []string
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return warnings, nil
		}
		if err != nil {
			if cr.exceeded {
				return nil, fmt.Errorf("%w: backup expands to more than %d bytes", device.ErrFormat, maxExpanded)
			}
			return nil, fmt.Errorf("%w: tar: %v", device.ErrFormat, err)
		}
		if n >= maxEntries {
			return nil, fmt.Errorf("%w: more than %d entries", device.ErrFormat, maxEntries)
		}
		name := stdpath.Clean(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"))
		dir, base := stdpath.Split(name)
		if h.Typeflag != tar.TypeReg || dir != "etc/config/" || base == "" || strings.HasPrefix(base, ".") {
			continue
		}
		if h.Size > uci.MaxFileSize {
			warnings = append(warnings, fmt.Sprintf("%s is %d bytes, more than a configuration file may have: not read", name, h.Size))
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			if cr.exceeded {
				return nil, fmt.Errorf("%w: backup expands to more than %d bytes", device.ErrFormat, maxExpanded)
			}
			return nil, fmt.Errorf("%w: tar: %s: %v", device.ErrFormat, name, err)
		}
		if !fn(backupFile{name: base, data: data}) {
			return warnings, nil
		}
	}
}

// BackupImporter reads the .tar.gz that `sysupgrade -b` (LuCI's "Generate
// archive") writes: etc/config/* and other kept files.
type BackupImporter struct {
	// Now stamps the snapshot; nil means time.Now.
	Now func() time.Time
}

var _ device.Importer = BackupImporter{}

// Name implements device.Importer.
func (BackupImporter) Name() string { return NameBackup }

// Detect reports a gzip-compressed tar with an etc/config/ file near
// its start.
func (BackupImporter) Detect(b []byte) bool {
	found := false
	_, err := walkBackup(b, detectExpanded, detectEntries, func(backupFile) bool {
		found = true
		return false
	})
	return err == nil && found
}

// Import reads the configuration files of the backup. Only the packages
// routerwatch reads are kept as artifacts, redacted; the backup's other
// files (wireless with its keys, /etc/shadow, SSH host keys) are passed
// over unread.
func (i BackupImporter) Import(b []byte) (*device.Snapshot, error) {
	got := map[string][]byte{}
	warnings, err := walkBackup(b, maxBackupExpanded, maxBackupEntries, func(f backupFile) bool {
		if slices.Contains(packages, f.name) {
			got[f.name] = f.data // a later entry of the same name wins, as tar extraction does
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("%w: the archive holds none of etc/config/{%s}: not an OpenWrt backup", device.ErrFormat, strings.Join(packages, ","))
	}
	c := configs{}
	snap := &device.Snapshot{Adapter: NameBackup, TakenAt: now(i.Now)}
	for _, name := range packages {
		data, ok := got[name]
		if !ok {
			warnings = append(warnings, "etc/config/"+name+" is not in the backup: the fields it holds are unknown")
			continue
		}
		pkgs, err := uci.Parse(data)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("etc/config/%s does not parse (%v): the fields it holds are unknown", name, err))
			continue
		}
		p := &uci.Package{Name: name}
		if len(pkgs) > 0 {
			p.Sections = pkgs[0].Sections
		}
		if len(pkgs) > 1 {
			warnings = append(warnings, fmt.Sprintf("etc/config/%s holds package statements; only the first package is read", name))
		}
		c[name] = p
		body, n := redactText(data, pkgs)
		snap.Raw = append(snap.Raw, device.Artifact{Name: "etc/config/" + name, ContentType: "text/plain", Body: body, Redacted: n})
	}
	var w []string
	snap.Config, w = mapConfig(c, NameBackup)
	snap.Warnings = append(warnings, w...)
	return snap, nil
}

func now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}

// typePackages names the package a section type belongs to, for UCI
// text that does not say (a file is named by its path). Types found in
// two packages ("rule": firewall and network; "ipset": firewall and
// dhcp) do not vote.
var typePackages = map[string]string{
	"dnsmasq": "dhcp", "dhcp": "dhcp", "host": "dhcp", "odhcpd": "dhcp", "domain": "dhcp", "boot": "dhcp",
	"cname": "dhcp", "srvhost": "dhcp", "mxhost": "dhcp", "hostrecord": "dhcp", "relay": "dhcp", "tag": "dhcp",
	"mac": "dhcp", "match": "dhcp", "vendorclass": "dhcp", "userclass": "dhcp",
	"interface": "network", "switch": "network", "switch_vlan": "network", "switch_port": "network",
	"globals": "network", "device": "network", "route": "network", "route6": "network", "alias": "network",
	"bridge-vlan": "network", "rule6": "network",
	"defaults": "firewall", "zone": "firewall", "forwarding": "firewall", "redirect": "firewall",
	"include": "firewall", "nat": "firewall",
	"uhttpd": "uhttpd", "cert": "uhttpd",
	"dropbear": "dropbear",
	"system":   "system", "timeserver": "system", "led": "system", "button": "system",
	"login": "rpcd", "rpcd": "rpcd",
	"wifi-device": "wireless", "wifi-iface": "wireless",
}

// identify names an unnamed package by its section types: the package
// most of them belong to, when no other has as many.
func identify(p *uci.Package) (string, error) {
	votes := map[string]int{}
	for _, s := range p.Sections {
		if name, ok := typePackages[s.Type]; ok {
			votes[name]++
		}
	}
	best, bestN, tie := "", 0, false
	for name, n := range votes {
		switch {
		case n > bestN:
			best, bestN, tie = name, n, false
		case n == bestN:
			tie = true
		}
	}
	if best == "" || tie {
		return "", fmt.Errorf("%w: cannot tell which configuration file this is from its sections", device.ErrFormat)
	}
	return best, nil
}

// UCIImporter reads UCI text: one /etc/config file (which it names by
// its sections: a "config dnsmasq" file is dhcp) or the output of `uci
// export` (every package, named). What the text does not hold stays
// unknown: a dhcp file alone knows the DHCP pool's options but not the
// LAN address it counts from.
type UCIImporter struct {
	// Now stamps the snapshot; nil means time.Now.
	Now func() time.Time
}

var _ device.Importer = UCIImporter{}

// Name implements device.Importer.
func (UCIImporter) Name() string { return NameUCI }

// read parses b and names its packages.
func (UCIImporter) read(b []byte) ([]*uci.Package, configs, error) {
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, nil, fmt.Errorf("%w: binary data, not UCI text", device.ErrFormat)
	}
	pkgs, err := uci.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", device.ErrFormat, err)
	}
	c := configs{}
	for _, p := range pkgs {
		if len(p.Sections) == 0 {
			continue
		}
		if p.Name == "" {
			name, err := identify(p)
			if err != nil {
				return nil, nil, err
			}
			p.Name = name
		}
		if _, dup := c[p.Name]; dup {
			return nil, nil, fmt.Errorf("%w: two %s packages", device.ErrFormat, p.Name)
		}
		c[p.Name] = p
	}
	for name := range c {
		if !slices.Contains(packages, name) {
			delete(c, name)
		}
	}
	if len(c) == 0 {
		return nil, nil, fmt.Errorf("%w: the text holds none of the configuration routerwatch reads (%s)", device.ErrFormat, strings.Join(packages, ", "))
	}
	return pkgs, c, nil
}

// Detect reports UCI text holding at least one package routerwatch reads.
func (i UCIImporter) Detect(b []byte) bool {
	_, _, err := i.read(b)
	return err == nil
}

// Import reads the UCI text.
func (i UCIImporter) Import(b []byte) (*device.Snapshot, error) {
	pkgs, c, err := i.read(b)
	if err != nil {
		return nil, err
	}
	snap := &device.Snapshot{Adapter: NameUCI, TakenAt: now(i.Now)}
	var names, missing []string
	for _, name := range packages {
		if c[name] != nil {
			names = append(names, name)
		} else {
			missing = append(missing, name)
		}
	}
	artifact := "uci export"
	if len(pkgs) == 1 {
		artifact = "etc/config/" + names[0]
	}
	body, n := redactText(b, pkgs)
	snap.Raw = []device.Artifact{{Name: artifact, ContentType: "text/plain", Body: body, Redacted: n}}
	if len(missing) > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("the text holds %s only: the fields of %s are unknown", strings.Join(names, ", "), strings.Join(missing, ", ")))
	}
	var w []string
	snap.Config, w = mapConfig(c, NameUCI)
	snap.Warnings = append(snap.Warnings, w...)
	return snap, nil
}
