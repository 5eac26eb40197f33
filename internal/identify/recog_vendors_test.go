// SPDX-License-Identifier: Apache-2.0

package identify_test

import (
	"fmt"
	"html"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// routerVendors are the SOHO router makers whose recog examples the test
// runs, as vendor-key prefixes.
var routerVendors = []struct{ name, key string }{
	{"TP-Link", "tplink"}, {"MikroTik", "mikrotik"}, {"Netgear", "netgear"}, {"D-Link", "dlink"},
	{"ASUS", "asus"}, {"Ubiquiti", "ubiquiti"}, {"Zyxel", "zyxel"}, {"DrayTek", "draytek"},
	{"AVM", "avm"}, {"Linksys", "linksys"}, {"Huawei", "huawei"}, {"ZTE", "zte"},
	{"Technicolor", "technicolor"}, {"ARRIS", "arris"}, {"TRENDnet", "trendnet"},
	{"Buffalo", "buffalo"}, {"OpenWrt", "openwrt"},
}

// mustModel are the vendors whose every example must be identified, with
// the right model where the example names one (issue 3).
var mustModel = map[string]bool{"TP-Link": true, "MikroTik": true}

// fixedVendor is the fingerprint's own vendor: hw, then os, then service.
func fixedVendor(f *recog.Fingerprint) string {
	for _, name := range []string{"hw.vendor", "os.vendor", "service.vendor"} {
		for _, p := range f.Params {
			if p.Name == name && p.Pos == 0 {
				return p.Value
			}
		}
	}
	return ""
}

func captured(f *recog.Fingerprint, name string) bool {
	for _, p := range f.Params {
		if p.Name == name && p.Pos > 0 {
			return true
		}
	}
	return false
}

// expectedModel is the model an example names: a captured hw.product,
// hw.model, os.product (recog puts MikroTik boards there) or, for network
// devices, service.product (TP-Link's UPnP SERVER string names the model;
// ZTE's "Mini web server" names only the web server).
func expectedModel(f *recog.Fingerprint, ex recog.Example) string {
	network := false
	for _, p := range f.Params {
		if (p.Name == "hw.device" || p.Name == "os.device") && (p.Value == "Router" || p.Value == "WAP") {
			network = true
		}
	}
	for _, name := range []string{"hw.product", "hw.model", "os.product", "service.product"} {
		if name == "service.product" && !network {
			continue
		}
		if v := ex.Want[name]; v != "" && captured(f, name) {
			return v
		}
	}
	return ""
}

// observe turns an example into what our probes would have observed, by
// their own parsers where they have one. ok is false for kinds of strings
// no probe collects; those go to identification as raw recog evidence.
func observe(key, text string) (obs []probe.Observation, ok bool) {
	resp := func(h http.Header, body string) *httpprobe.Observation {
		r := httpfp.FromHTTP(&http.Response{StatusCode: 200, Header: h}, []byte(body), false)
		return &httpprobe.Observation{Addr: dev, Endpoints: []httpprobe.Endpoint{{Scheme: "http", Exchange: probe.Exchange{Port: 80}, Response: &r}}}
	}
	switch key {
	case "http_header.server":
		if strings.Contains(text, "UPnP/") {
			// UPnP SERVER strings reach us through SSDP.
			return []probe.Observation{&upnpprobe.Observation{Addr: dev, SSDP: upnpprobe.SSDP{Responses: []upnpprobe.SSDPResponse{{Status: 200, Server: text}}}}}, true
		}
		return []probe.Observation{resp(http.Header{"Server": {text}}, "")}, true
	case "http_header.wwwauth":
		return []probe.Observation{resp(http.Header{"Www-Authenticate": {text}}, "")}, true
	case "http_header.cookie":
		return []probe.Observation{resp(http.Header{"Set-Cookie": {text}}, "")}, true
	case "html_title":
		return []probe.Observation{resp(http.Header{}, "<html><head><title>"+html.EscapeString(text)+"</title></head></html>")}, true
	case "favicon.md5":
		o := resp(http.Header{}, "")
		o.Endpoints[0].Favicon = &httpfp.Favicon{StatusCode: 200, MD5: text}
		return []probe.Observation{o}, true
	case "x509.subject", "x509.issuer":
		c := &probe.Certificate{Subject: text, Issuer: text}
		if key == "x509.subject" {
			c.Issuer = ""
		} else {
			c.Subject = ""
		}
		o := &httpprobe.Observation{Addr: dev, Endpoints: []httpprobe.Endpoint{{Scheme: "https", Exchange: probe.Exchange{Port: 443}, TLS: &probe.TLSInfo{Certificate: c}}}}
		return []probe.Observation{o}, true
	case "ssh.banner":
		id, ok, err := bannerprobe.ParseSSH([]byte("SSH-2.0-" + text + "\r\n"))
		if !ok || err != nil {
			return nil, false
		}
		return []probe.Observation{&bannerprobe.Observation{Addr: dev, Endpoints: []bannerprobe.Endpoint{{Service: "ssh", SSH: &id}}}}, true
	case "ftp.banner":
		g, ok, err := bannerprobe.ParseFTP([]byte("220 " + text + "\r\n"))
		if !ok || err != nil || strings.ContainsAny(text, "\r\n") {
			return nil, false
		}
		return []probe.Observation{&bannerprobe.Observation{Addr: dev, Endpoints: []bannerprobe.Endpoint{{Service: "ftp", FTP: &g}}}}, true
	case "telnet_banners":
		tel := bannerprobe.NewTelnet(4096)
		tel.Feed([]byte(text))
		b := probe.Text(tel.Text(), 4096)
		return []probe.Observation{&bannerprobe.Observation{Addr: dev, Endpoints: []bannerprobe.Endpoint{{Service: "telnet", Banner: b}}}}, true
	case "snmp.sys_description":
		return []probe.Observation{snmpObs(text, "")}, true
	case "snmp.sys_object_id":
		oid, descr, _ := strings.Cut(text, " ")
		return []probe.Observation{snmpObs(descr, oid)}, true
	}
	return nil, false
}

// sameModel accepts our model (or an alternative) for the example's: the
// same model key, or the example's longer name ending in ours ("Wireless
// N Router WR841N" and TL-WR841N), or one of the models of its last token
// ("WR740N/WR741ND").
func sameModel(res identify.Result, want string) bool {
	wk := advisory.ModelKey(want)
	fields := strings.Fields(want)
	last := advisory.ParseProductName(fields[len(fields)-1]).Models
	for _, m := range append([]string{res.Model.Value}, res.ModelAlternatives...) {
		k := advisory.ModelKey(m)
		if k == "" {
			continue
		}
		if k == wk || (len(k) >= 4 && strings.HasSuffix(wk, k)) {
			return true
		}
		for _, l := range last {
			if advisory.ModelKey(l) == k {
				return true
			}
		}
	}
	return false
}

type tally struct {
	examples, viaProbes, vendorHits, withModel, modelHits int
	ownVendorHits, ownModelHits                           int // without recog
	misses                                                []string
}

// TestRecogRouterVendors runs our identification, with the recog database
// loaded, over every example of every router vendor in recog, the way the
// probes would have seen the string, and tabulates hits and misses.
func TestRecogRouterVendors(t *testing.T) {
	db, err := recog.Load(filepath.Join(testutil.SharedData(t), "recog", "xml"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := identify.New(identify.Options{Recog: db})
	if err != nil {
		t.Fatal(err)
	}
	own, err := identify.New(identify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tallies := map[string]*tally{}
	for _, key := range db.Keys() {
		for _, f := range db.Set(key).Fingerprints {
			fv := advisory.VendorKey(fixedVendor(f))
			vendor := ""
			for _, v := range routerVendors {
				if fv != "" && strings.HasPrefix(fv, v.key) {
					vendor = v.name
				}
			}
			if vendor == "" {
				continue
			}
			tl := tallies[vendor]
			if tl == nil {
				tl = &tally{}
				tallies[vendor] = tl
			}
			for _, ex := range f.Examples {
				if ex.External {
					continue
				}
				tl.examples++
				obs, viaProbes := observe(key, ex.Text)
				var res, ownRes identify.Result
				if viaProbes {
					tl.viaProbes++
					res = id.FromObservations(obs)
					ownRes = own.FromObservations(obs)
				} else {
					res = id.FromEvidence([]probe.Evidence{{Probe: "import", Field: "recog." + key, Value: ex.Text}})
				}
				ownVendorOK := ownRes.Vendor.Value != "" && strings.HasPrefix(advisory.VendorKey(ownRes.Vendor.Value), advisory.VendorKey(vendor))
				if ownVendorOK {
					tl.ownVendorHits++
				}
				vendorOK := strings.HasPrefix(advisory.VendorKey(res.Vendor.Value), advisory.VendorKey(vendor)) ||
					advisory.VendorKey(res.Vendor.Value) == fv
				model := expectedModel(f, ex)
				modelOK := true
				if vendorOK {
					tl.vendorHits++
				}
				if model != "" {
					tl.withModel++
					if modelOK = vendorOK && sameModel(res, model); modelOK {
						tl.modelHits++
					}
					if ownVendorOK && sameModel(ownRes, model) {
						tl.ownModelHits++
					}
				}
				if !vendorOK || !modelOK {
					miss := fmt.Sprintf("%s %s: %q → vendor %q model %q (want %q)", key, f.Name(), ex.Text, res.Vendor.Value, res.Model.Value, model)
					tl.misses = append(tl.misses, miss)
					if mustModel[vendor] {
						t.Errorf("%s example not identified: %s", vendor, miss)
					}
				}
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n| vendor | examples | seen by probes | vendor hits | with model | model hits | misses | vendor hits, own rules only | model hits, own rules only |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	names := make([]string, 0, len(tallies))
	for n := range tallies {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := tallies[names[i]], tallies[names[j]]
		if a.examples != b.examples {
			return a.examples > b.examples
		}
		return names[i] < names[j]
	})
	var total tally
	for _, n := range names {
		tl := tallies[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", n, tl.examples, tl.viaProbes, tl.vendorHits, tl.withModel, tl.modelHits, len(tl.misses), tl.ownVendorHits, tl.ownModelHits)
		total.examples += tl.examples
		total.viaProbes += tl.viaProbes
		total.vendorHits += tl.vendorHits
		total.withModel += tl.withModel
		total.modelHits += tl.modelHits
		total.ownVendorHits += tl.ownVendorHits
		total.ownModelHits += tl.ownModelHits
		total.misses = append(total.misses, tl.misses...)
	}
	fmt.Fprintf(&b, "| **all** | %d | %d | %d | %d | %d | %d | %d | %d |\n", total.examples, total.viaProbes, total.vendorHits, total.withModel, total.modelHits, len(total.misses), total.ownVendorHits, total.ownModelHits)
	t.Log(b.String())
	if testing.Verbose() {
		for _, m := range total.misses {
			t.Log("miss: " + m)
		}
	}
	for v := range mustModel {
		if tallies[v] == nil || tallies[v].examples == 0 {
			t.Errorf("no %s examples found in recog", v)
		}
	}
}
