// SPDX-License-Identifier: Apache-2.0

// Package buildinfo reports the version of the routerwatch binary.
package buildinfo

import "runtime/debug"

// Version is set at link time with
// -ldflags "-X github.com/routerwatch/routerwatch/internal/buildinfo.Version=v1.2.3".
// When it is empty the module version or VCS revision recorded by the Go
// toolchain is used instead.
var Version = ""

// String returns the best available version of this binary.
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
