// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"bytes"
	"crypto/des"
	"crypto/md5"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
)

// encryptConfigBin builds a config.bin the way CONFIGS.md §1.5 says the
// router writes one: the MD5 of the text, the text, NUL padding to 8
// bytes, DES-ECB with the firmware key. overPadding puts the digest over
// the padded text instead (the other reading of the sources).
func encryptConfigBin(tb testing.TB, text string, overPadding bool) []byte {
	tb.Helper()
	body := []byte(text)
	pad := (des.BlockSize - (md5.Size+len(body))%des.BlockSize) % des.BlockSize
	padded := append(append([]byte{}, body...), make([]byte, pad)...)
	sum := md5.Sum(body)
	if overPadding {
		sum = md5.Sum(padded)
	}
	plain := append(sum[:], padded...)
	blk, err := des.NewCipher(configBinKey)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, len(plain))
	for i := 0; i < len(plain); i += des.BlockSize {
		blk.Encrypt(out[i:i+des.BlockSize], plain[i:i+des.BlockSize])
	}
	return out
}

// syntheticConfig is a SYNTHETIC decrypted config.bin: no real file was
// found (CONFIGS.md §1.5). The key names are the ones the sources quote
// (lan_ip, lan_msk, lan_gateway, lgn_usr, lgn_pwd, lgn_ousr, lgn_opswd);
// wlan_psk and wan_ppp_pwd are invented to check the redaction by name.
const syntheticConfig = `lan_ip 192.168.8.200
lan_msk 255.255.255.0
lan_gateway 0.0.0.0
lgn_ousr admin
lgn_opswd admin-old-secret
lgn_usr owner
lgn_pwd S3cret-Passw0rd
wlan_ssid Home Net
wlan_psk wifi-psk-secret
wan_ppp_pwd ppp-secret
`

func TestConfigBinImport(t *testing.T) {
	for _, tc := range []struct {
		name        string
		text        string
		overPadding bool
		want        map[string]string
		warnings    []string
		redacted    int
	}{
		{name: "synthetic", text: syntheticConfig,
			want:     map[string]string{"lan": "192.168.8.200/24", "admins": "[owner]", "vendor": "TP-Link", "dhcp_dns": "?", "wan_dns": "?", "web.wan": "?"},
			redacted: 4},
		{name: "digest_over_padding", text: syntheticConfig, overPadding: true,
			want: map[string]string{"lan": "192.168.8.200/24", "admins": "[owner]"}, redacted: 4},
		{name: "crlf_and_bad_lines", text: "lan_ip 10.0.0.1\r\nlan_msk 255.0.0.0\r\n\r\n!!! garbage lgn_pwd\r\n",
			want: map[string]string{"lan": "10.0.0.1/8", "admins": "?"}, warnings: []string{`config.bin: 1 lines not in "key value" form`}},
		{name: "lan_does_not_parse", text: "lan_ip 10.0.0.1\nlan_msk 255.0.255.0\n",
			want: map[string]string{"lan": "?"}, warnings: []string{`config.bin: lan_ip "10.0.0.1" lan_msk "255.0.255.0" do not parse`}},
		{name: "no_known_keys", text: "sys_name x\n", want: map[string]string{"lan": "?", "admins": "?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encryptConfigBin(t, tc.text, tc.overPadding)
			cb := ConfigBin{Now: func() time.Time { return time.Unix(0, 0) }}
			if !cb.Detect(b) {
				t.Fatal("Detect is false")
			}
			snap, err := cb.Import(b)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"lan":      fieldStr(snap.Config.LAN),
				"admins":   fieldStr(snap.Config.Admins),
				"vendor":   fieldStr(snap.Config.Identity.Vendor),
				"dhcp_dns": fieldStr(snap.Config.DHCPDNS),
				"wan_dns":  fieldStr(snap.Config.WANDNS),
				"web.wan":  fieldStr(snap.Config.Service(device.ServiceWeb).WAN),
			}
			for k := range got {
				if _, ok := tc.want[k]; !ok {
					delete(got, k)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.warnings, snap.Warnings); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if snap.Adapter != "tplink-configbin" || len(snap.Raw) != 1 || snap.Raw[0].Redacted != tc.redacted {
				t.Errorf("snapshot %s, %d artifacts, redacted %d (want %d)", snap.Adapter, len(snap.Raw), snap.Raw[0].Redacted, tc.redacted)
			}
			js, err := json.Marshal(snap)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"admin-old-secret", "S3cret-Passw0rd", "wifi-psk-secret", "ppp-secret", "garbage"} {
				if bytes.Contains(js, []byte(secret)) {
					t.Errorf("the snapshot holds %q", secret)
				}
			}
		})
	}
}

func fieldStr[T any](f device.Field[T]) string {
	if !f.Known {
		return "?"
	}
	b, _ := json.Marshal(f.Value)
	s := strings.Trim(string(b), `"`)
	return strings.NewReplacer(`","`, " ", `["`, "[", `"]`, "]").Replace(s)
}

func TestConfigBinUnknownNotes(t *testing.T) {
	snap, err := ConfigBin{}.Import(encryptConfigBin(t, syntheticConfig, false))
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]device.Source{
		"dhcp_dns": snap.Config.DHCPDNS.Source,
		"wan_dns":  snap.Config.WANDNS.Source,
		"web.wan":  snap.Config.Service(device.ServiceWeb).WAN.Source,
	} {
		if !strings.Contains(src.Note, "NOT FOUND") || src.Adapter != ConfigBinName {
			t.Errorf("%s: source %+v does not say why it is unknown", name, src)
		}
	}
	raw := string(snap.Raw[0].Body)
	for _, line := range []string{"lan_ip 192.168.8.200\n", "lgn_pwd <redacted>\n", "wlan_ssid Home Net\n", "lgn_ousr admin\n"} {
		if !strings.Contains(raw, line) {
			t.Errorf("raw text without %q:\n%s", line, raw)
		}
	}
}

func TestConfigBinRefuses(t *testing.T) {
	good := encryptConfigBin(t, syntheticConfig, false)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x40 // a damaged last block: the MD5 no longer matches
	wrongDigest := bytes.Clone(good)
	wrongDigest[0] ^= 1
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"too_short", good[:16]},
		{"not_whole_blocks", good[:len(good)-1]},
		{"damaged", flipped},
		{"wrong_digest", wrongDigest},
		{"too_large", make([]byte, MaxConfigBinBytes+8)},
		{"a_web_page", []byte(strings.Repeat("<html>12", 8))},
		{"digest_only", encryptConfigBin(t, "", false)},
		{"binary_inside", encryptConfigBin(t, "lan_ip 1.2.3.4\n\x01\x02compressed", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := ConfigBin{}
			if cb.Detect(tc.b) {
				t.Error("Detect is true")
			}
			_, err := cb.Import(tc.b)
			if !errors.Is(err, device.ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// FuzzConfigBin fuzzes the decoder on raw files, and the text reader on
// plaintext that is encrypted first (so that it passes the digest).
func FuzzConfigBin(f *testing.F) {
	f.Add(encryptConfigBin(f, syntheticConfig, false), false)
	f.Add([]byte(syntheticConfig), true)
	f.Add([]byte("lan_ip 1.2.3.4\nlan_msk 0\n\x00"), true)
	f.Fuzz(func(t *testing.T, b []byte, plaintext bool) {
		if plaintext {
			if len(b) > MaxConfigBinBytes-64 {
				return
			}
			b = encryptConfigBin(t, string(b), false)
		}
		snap, err := ConfigBin{}.Import(b)
		if err != nil {
			if !errors.Is(err, device.ErrFormat) {
				t.Fatalf("error not ErrFormat: %v", err)
			}
			return
		}
		if snap.Config.LAN.Known && !snap.Config.LAN.Value.IsValid() {
			t.Fatalf("known LAN %v", snap.Config.LAN.Value)
		}
		for _, line := range strings.Split(string(snap.Raw[0].Body), "\n") {
			k, v, _ := strings.Cut(line, " ")
			if secretKey(k) && v != "" && v != "<redacted>" {
				t.Fatalf("secret %s kept", k)
			}
		}
	})
}
