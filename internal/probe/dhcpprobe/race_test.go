// SPDX-License-Identifier: Apache-2.0

//go:build race

package dhcpprobe

// raceEnabled: timings mean nothing under the race detector (5-10× slower).
const raceEnabled = true
