// SPDX-License-Identifier: Apache-2.0

//go:build race

package dnsprobe_test

// raceEnabled: timings stretch under the race detector.
const raceEnabled = true
