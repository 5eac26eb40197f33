// SPDX-License-Identifier: Apache-2.0

//go:build !race

package dnsprobe_test

const raceEnabled = false
