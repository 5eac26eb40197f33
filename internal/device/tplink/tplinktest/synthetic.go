// SPDX-License-Identifier: Apache-2.0

package tplinktest

import "strings"

// SyntheticSamples are stand-ins for the real pages, written by
// routerwatch from the captured pages' array layouts (same arrays, same
// positions, documentation addresses), for tests that must run without
// the shared data (the CLI's script tests). They are not captures.
func SyntheticSamples() Samples {
	script := func(body string) string {
		return "<SCRIPT language=\"javascript\" type=\"text/javascript\">\n" + body + "</SCRIPT>\n"
	}
	status := script("var statusPara = new Array(\n1,\n1,\n21,\n20000,\n3303482,\n\"3.12.5 Build 100929 Rel.57776n \",\n\"WR841N v6/v7 00000000\",\n716632876,\n0,0 );\n") +
		script("var lanPara = new Array(\n\"02-00-00-00-00-01\", \"192.168.1.1\", \"255.255.255.0\", \n0,0 );\n") +
		script("var wanPara = new Array(\n4, \"02-00-00-00-00-02\", \"198.51.100.20\", 1, \"255.255.255.0\", 0, 0, \"198.51.100.1\", 1, 1, 0, \"213.57.2.5 , 0.0.0.0\", \"\", 0, 0, \"0.0.0.0\", \"0.0.0.0\", 0, 0, 0, 0, \n0,0 );\n") +
		"<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD><BODY>SYNTHETIC StatusRpm (routerwatch tests; not a capture)</BODY></HTML>\n"
	pages := []string{"SysRebootRpm", "ChangeLoginPwdRpm", "BakNRestoreRpm", "SoftwareUpgradeRpm", "LanDhcpServerRpm", "ManageControlRpm",
		"WanCfgRpm", "NetworkCfgRpm", "WpsCfgRpm", "UpnpCfgRpm", "DMZRpm", "VirtualServerRpm", "LocalManageControlRpm", "StatusRpm"}
	menu := script("var visibleMenuList = new Array(\n\""+strings.Join(pages, "\",\n\"")+"\",\n0,0 );\n") +
		"<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD><BODY>SYNTHETIC MenuRpm</BODY></HTML>\n"
	index := script("var framePara = new Array(\n0,\n\"main.htm\",\n0,0 );\n") +
		"<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD><BODY>SYNTHETIC Index</BODY></HTML>\n"
	return Samples{Status: []byte(status), Menu: []byte(menu), Index: []byte(index)}
}
