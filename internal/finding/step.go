// SPDX-License-Identifier: Apache-2.0

package finding

// Step is one thing the user should do, in plain words. Checks return
// them in order of urgency; reports print them between the verdict and
// the findings. Every family (device audit, DNS checks, advisories) uses
// this one type, so a front end never converts between look-alikes.
type Step struct {
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}
