// SPDX-License-Identifier: Apache-2.0

// Package tplink reads and, when the owner asks, changes the settings of
// TP-Link routers with the legacy "/userRpm/*.htm" web UI (TL-WR841N
// v8–v11, TL-WR840N, TL-WR940N, TL-WDR4300, Archer C7 v2/v3), and imports
// their encrypted config.bin backups. The formats are those of
// ../shared/brief/CONFIGS.md §1.
//
// The contract:
//   - ParsePage reads the JavaScript arrays the router's httpd prepends
//     to each page ("var DHCPPara = new Array(…, 0,0 );"). It is bounded
//     (page size, arrays, values, string length), skips an array it
//     cannot read instead of guessing, and never panics on any input.
//   - Map turns a set of pages into a device.Config. Every field is known
//     only when a page said so, with the page and array element in its
//     Source; a missing page, a missing array or a value that does not
//     parse leaves the field unknown, with why in the Source's Note.
//     Where CONFIGS.md §1.3 has no layout but the firmware templates do
//     (LocalManageControlRpm, WpsCfgRpm), the Source's Note says so.
//   - Legacy is the online adapter ("tplink-legacy"): a device.Puller and
//     device.Fixer. It speaks both login schemes (HTTP Basic, and the
//     Authorization cookie with the LoginRpm session token), detects which
//     one the router uses, always logs out, and dials only through the
//     *netx.Dialer it is given. Pull sends no request that changes a
//     setting. Only Apply and Restore send "Save" requests.
//   - ConfigBin is the offline importer ("tplink-configbin") of the
//     DES-encrypted legacy backup.
//   - No secret leaves the package: the login password is sent only to
//     the router, and the WPS PIN and config.bin passwords are redacted
//     from the raw artifacts (counted in Artifact.Redacted).
package tplink
