// SPDX-License-Identifier: Apache-2.0

package jobs_test

// childMain runs a worker process when the test binary is started as one
// (the fault tests); it reports whether it did.
func childMain() bool { return false }
