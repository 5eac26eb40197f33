// SPDX-License-Identifier: Apache-2.0

//go:build linux

package hostnet

// DefaultEnv returns the Env of the running Linux system.
func DefaultEnv() Env {
	return Env{GOOS: "linux", ReadFile: readFileBounded, Interfaces: systemInterfaces}
}
