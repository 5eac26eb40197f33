// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"fmt"
	"os"
	"path/filepath"
)

// SharedEnv names the environment variable that points at the project's
// shared reference folder (the one holding data/router-samples/).
const SharedEnv = "ROUTERWATCH_SHARED"

// tplinkSamplesDir is where the captured legacy TP-Link pages are in the
// shared folder (see its SOURCES.md).
const tplinkSamplesDir = "data/router-samples/tplink-legacy"

// tplinkPages maps the captured files to the paths a legacy TP-Link httpd
// serves them under. The captures come from a TL-WR841N v6/v7 with firmware
// 3.12.5 Build 100929: StatusRpm.htm says so in statusPara.
var tplinkPages = []struct{ sample, path string }{
	{"wr841n-v6v7_3.12.5_talnir_StatusRpm.htm", "userRpm/StatusRpm.htm"},
	{"wr841n-v6v7_3.12.5_talnir_MenuRpm.htm", "userRpm/MenuRpm.htm"},
	{"wr841n-v6v7_3.12.5_talnir_Index.htm", "userRpm/Index.htm"},
}

// DropbearPwdBody is what the lab's TP-Link web UI answers, unauthenticated,
// for /loginFs/./dropbear/dropbearpwd: the shape THREAT.md §4.1 gives for a
// TL-WR841N vulnerable to CVE-2023-50224 (56 bytes: the user name and the
// unsalted MD5 of the password "admin"). A lab fake, not a capture.
const DropbearPwdBody = "username:admin\npassword:21232f297a57a5a743894a0e4a801fc3"

// syntheticPage stands in for a capture when the shared folder is missing.
const syntheticPage = `<html><head><title>TL-WR841N</title></head><body>
<p>SYNTHETIC PAGE written by the routerwatch lab, not a capture: the captured
legacy TP-Link pages (shared/` + tplinkSamplesDir + `) were not found.
Set ` + SharedEnv + ` to the shared folder to serve the real ones.</p>
</body></html>
`

// TPLinkLegacySamples returns the folder of the captured legacy TP-Link
// pages: $ROUTERWATCH_SHARED/data/router-samples/tplink-legacy, else the
// same under ../shared next to the repository that holds the working
// directory (found by its go.mod). ok is false if neither exists. The
// product never embeds these pages: the lab copies them at up.
func TPLinkLegacySamples() (dir string, ok bool) {
	var candidates []string
	if base := os.Getenv(SharedEnv); base != "" {
		candidates = append(candidates, filepath.Join(base, tplinkSamplesDir))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(d), "shared", tplinkSamplesDir))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, tplinkPages[0].sample)); err == nil {
			return c, true
		}
	}
	return "", false
}

// writeTPLinkLegacy fills the web root www of a legacy TP-Link UI: the
// captured pages (or synthetic stand-ins) and the credential file behind
// /loginFs/. It records in note where the pages came from.
func writeTPLinkLegacy(www, note string) error {
	src, ok := TPLinkLegacySamples()
	for _, p := range tplinkPages {
		data := []byte(syntheticPage)
		if ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(src, p.sample)); err != nil {
				return fmt.Errorf("lab: tplink pages: %w", err)
			}
		}
		if err := writeFileAll(filepath.Join(www, p.path), data); err != nil {
			return err
		}
	}
	if err := writeFileAll(filepath.Join(www, "loginFs", "dropbear", "dropbearpwd"), []byte(DropbearPwdBody)); err != nil {
		return err
	}
	what := "synthetic (no capture found; set " + SharedEnv + ")"
	if ok {
		what = "captured, from " + src
	}
	return writeFileAll(note, []byte("tplink-legacy pages: "+what+"\n"))
}

func writeFileAll(path string, data []byte) error {
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
