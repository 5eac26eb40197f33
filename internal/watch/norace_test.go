// SPDX-License-Identifier: Apache-2.0

//go:build !race

package watch_test

const raceEnabled = false
