// SPDX-License-Identifier: Apache-2.0

// Package e2e holds end-to-end tests that run the routerwatch binary
// inside the network-namespace lab (internal/lab) against real daemons:
// check in the client namespace of the tplink-legacy scenario, check
// --wan-vantage and scan from the ISP namespace against mikrotik-exposed
// and hardened, and check against the hostile device with its deadline,
// findings and peak memory measured. It has no non-test code; the tests
// need root and skip without it, except with CI=true, where they must run.
package e2e
