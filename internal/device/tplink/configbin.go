// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"bytes"
	"crypto/des"
	"crypto/md5"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
)

// ConfigBinName names the config.bin importer.
const ConfigBinName = "tplink-configbin"

// MaxConfigBinBytes bounds a config.bin: a WDR3600 backup has about 1300
// short "key value" lines (tens of kilobytes).
const MaxConfigBinBytes = 1 << 20

// configBinKey is the DES key hard-coded in the legacy httpd
// (478DA50BF9E3D2CF, CONFIGS.md §1.5): it protects nothing, since every
// router of the line has it, but it is the format.
var configBinKey = []byte{0x47, 0x8D, 0xA5, 0x0B, 0xF9, 0xE3, 0xD2, 0xCF}

// ConfigBin imports the legacy backup file (GET /userRpm/config.bin):
// DES-ECB without padding; the plaintext is the MD5 of the rest, then
// "key value" lines, NUL-padded to 8 bytes.
type ConfigBin struct {
	// Now stamps snapshots; nil means time.Now.
	Now func() time.Time
}

var _ device.Importer = ConfigBin{}

// Name is the importer's name.
func (ConfigBin) Name() string { return ConfigBinName }

// Detect reports whether b decrypts to a legacy config with a matching
// MD5: a file of another format fails the digest.
func (ConfigBin) Detect(b []byte) bool {
	_, err := DecryptConfigBin(b)
	return err == nil
}

// DecryptConfigBin returns the text of a config.bin, without the digest
// and the NUL padding. Errors wrap device.ErrFormat.
func DecryptConfigBin(b []byte) ([]byte, error) {
	switch {
	case len(b) > MaxConfigBinBytes:
		return nil, fmt.Errorf("%w: config.bin of %d bytes (limit %d)", device.ErrFormat, len(b), MaxConfigBinBytes)
	case len(b) < 24:
		return nil, fmt.Errorf("%w: config.bin of %d bytes is too short (digest and one block are 24)", device.ErrFormat, len(b))
	case len(b)%des.BlockSize != 0:
		return nil, fmt.Errorf("%w: config.bin of %d bytes is not whole 8-byte DES blocks", device.ErrFormat, len(b))
	}
	blk, err := des.NewCipher(configBinKey)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(b))
	// ECB: each block on its own (Go has no ECB mode, on purpose).
	for i := 0; i < len(b); i += des.BlockSize {
		blk.Decrypt(plain[i:i+des.BlockSize], b[i:i+des.BlockSize])
	}
	digest, rest := plain[:md5.Size], plain[md5.Size:]
	text := bytes.TrimRight(rest, "\x00")
	// The sources differ on whether the digest covers the NUL padding
	// (the RE200 write-up hashes to the end of the file, the WDR3600
	// script hashes the text before padding); either is accepted.
	sumAll, sumText := md5.Sum(rest), md5.Sum(text)
	if !bytes.Equal(digest, sumAll[:]) && !bytes.Equal(digest, sumText[:]) {
		return nil, fmt.Errorf("%w: the MD5 in config.bin does not match its content (damaged, or not a legacy TP-Link backup)", device.ErrFormat)
	}
	for _, c := range text {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return nil, fmt.Errorf("%w: config.bin decrypts to binary data, not \"key value\" lines (a newer, compressed backup?)", device.ErrFormat)
		}
	}
	return text, nil
}

// configKey is the shape of a key ("lan_ip", "lgn_usr").
var configKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// secretKey reports whether a key's value is a secret: the admin
// passwords (lgn_pwd, lgn_opswd) and anything named like a password,
// pre-shared key, PIN or secret. Over-redacting costs nothing.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"pwd", "pswd", "pass", "psk", "secret", "key", "pin", "community"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Import reads a config.bin. Only the keys CONFIGS.md §1.5 names are
// mapped (lan_ip, lan_msk, lgn_usr); the key names of the DNS, DHCP and
// remote-management settings are not known, so those fields stay
// unknown. Secrets are redacted from the raw text.
func (cb ConfigBin) Import(b []byte) (*device.Snapshot, error) {
	text, err := DecryptConfigBin(b)
	if err != nil {
		return nil, err
	}
	snap := &device.Snapshot{Adapter: ConfigBinName, TakenAt: time.Now()}
	if cb.Now != nil {
		snap.TakenAt = cb.Now()
	}
	values := map[string]string{}
	var raw bytes.Buffer
	redactedN, bad := 0, 0
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			raw.WriteString("\n")
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		if !configKey.MatchString(k) {
			bad++
			// A line that is not "key value" might still hold a secret;
			// keep its place, not its content.
			fmt.Fprintf(&raw, "# line %d not in \"key value\" form\n", i+1)
			continue
		}
		if _, dup := values[k]; !dup {
			values[k] = v
		}
		if secretKey(k) && v != "" {
			redactedN++
			v = "<redacted>"
		}
		raw.WriteString(k + " " + v + "\n")
	}
	if bad > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("config.bin: %d lines not in \"key value\" form", bad))
	}
	snap.Raw = []device.Artifact{{Name: "config.bin (decrypted)", ContentType: "text/plain", Body: raw.Bytes(), Redacted: redactedN}}
	snap.Config = mapConfigBin(values, &snap.Warnings)
	return snap, nil
}

func mapConfigBin(v map[string]string, warn *[]string) device.Config {
	src := func(where, note string) device.Source {
		return device.Source{Adapter: ConfigBinName, Where: where, Note: note}
	}
	notFound := func(what string) device.Source {
		return src("config.bin", "the config.bin key names for "+what+" are not known (CONFIGS.md §1.5 NOT FOUND)")
	}
	var c device.Config
	c.Identity.Vendor = device.Known("TP-Link", src("config.bin", "encrypted with the legacy TP-Link httpd's DES key, digest verified"))
	c.Identity.Model = device.Unknown[string](notFound("the model"))
	c.Identity.Hardware = device.Unknown[string](notFound("the hardware version"))
	c.Identity.Firmware = device.Unknown[string](notFound("the firmware"))

	c.LAN = device.Unknown[netip.Prefix](src("config.bin lan_ip, lan_msk", "keys missing"))
	ipText, okIP := v["lan_ip"]
	mskText, okMsk := v["lan_msk"]
	if okIP && okMsk {
		ip, ok1 := parseIPv4(ipText)
		bits, ok2 := maskBits(mskText)
		if ok1 && ok2 && bits > 0 {
			c.LAN = device.Known(netip.PrefixFrom(ip, bits), src("config.bin lan_ip, lan_msk", ""))
		} else {
			*warn = append(*warn, fmt.Sprintf("config.bin: lan_ip %q lan_msk %q do not parse", ipText, mskText))
			c.LAN = device.Unknown[netip.Prefix](src("config.bin lan_ip, lan_msk", fmt.Sprintf("%q / %q do not parse", ipText, mskText)))
		}
	}
	if u := strings.TrimSpace(v["lgn_usr"]); u != "" {
		c.Admins = device.Known([]string{u}, src("config.bin lgn_usr",
			"the legacy web UI has one admin account; lgn_usr is its name (lgn_ousr is not an account of its own)"))
	} else {
		c.Admins = device.Unknown[[]string](src("config.bin lgn_usr", "key missing or empty"))
	}

	c.WANDNS = device.Unknown[[]netip.Addr](notFound("the WAN DNS"))
	c.WANDNSAuto = device.Unknown[bool](notFound("the WAN DNS"))
	c.DHCPEnabled = device.Unknown[bool](notFound("the DHCP server"))
	c.DHCPRange = device.Unknown[device.Range](notFound("the DHCP pool"))
	c.DHCPDNS = device.Unknown[[]netip.Addr](notFound("the DHCP DNS"))
	rm := notFound("remote management")
	c.SetService(device.ServiceWeb, device.Service{Enabled: device.Unknown[bool](rm), Port: device.Unknown[uint16](rm),
		Allowed: device.Unknown[[]netip.Prefix](rm), WAN: device.Unknown[bool](rm)})
	c.LocalManagement = device.Unknown[[]string](notFound("local management"))
	c.SNMPCommunities = device.Unknown[[]string](notFound("SNMP"))
	c.PortForwards = device.Unknown[[]device.PortForward](notFound("port forwards"))
	c.DMZ = device.Unknown[netip.Addr](notFound("the DMZ"))
	c.NTP = device.Unknown[[]string](notFound("NTP"))
	c.Syslog = device.Unknown[[]string](notFound("syslog"))
	return c
}
