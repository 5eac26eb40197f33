// SPDX-License-Identifier: Apache-2.0

// Package alert tells the owner when the state of a watched router
// changes: a problem appears, goes away, or changes severity. It backs
// `routerwatch watch`, which runs the audits on an interval and hands each
// cycle's failing problems to an Alerter.
//
// # Events
//
// An Event is one change of state of one problem, identified by a stable
// de-duplication key (device, check ID, subject: see Key). Its JSON form
// (snake_case, schema_version SchemaVersion, described by the JSON Schema
// in JSONSchema) is the body of a webhook and the stdout JSON line. Kinds:
//
//   - raised: a problem not open before is seen;
//   - changed: an open problem is seen again with another severity (one
//     event, carrying previous_severity; a change of title, detail or
//     evidence alone raises nothing, so that details holding counts or
//     times do not flood the channels, but the newest detail is kept for
//     the next event);
//   - resolved: an open problem is not seen in a cycle that covered it.
//
// # De-duplication and offline routers
//
// Track is pure: the open problems of the last cycle and what this cycle
// saw in, the next open problems and the events out. A problem that stays
// open raises nothing. A cycle that could not look (the router is offline,
// the DNS audit could not complete) lists what it missed in Cycle.Skipped
// (DeviceScope, CheckScope or a full key); an open problem it missed is
// neither resolved nor raised again, so an outage never produces a
// resolved/raised pair. "Router offline" is a problem of its own (any
// check ID the caller picks, e.g. "watch.device-unreachable").
//
// # Delivery
//
// Each Notifier sends one event to one channel, bounded by its context:
//
//   - Writer: one JSON line or one readable line per event (stdout);
//   - Webhook: a JSON POST (see Webhook for the signature headers); 5xx,
//     408, 429 and network errors are retried a few times with backoff,
//     other 4xx are not; redirects are not followed;
//   - Syslog: RFC 3164 on the local socket (/dev/log, as glibc writes it,
//     which journald and rsyslog both parse) and RFC 5424 over UDP or TCP
//     (TCP frames with octet counting, RFC 6587); raised and changed
//     events map severity to a syslog level, resolved is notice;
//   - SMTP: a plain-text mail through github.com/wneessen/go-mail with
//     STARTTLS mandatory unless configured otherwise.
//
// A Fanout sends every event to every channel at once and reports the
// channels that failed. The Alerter runs a cycle: Load the state, Track,
// deliver, Save. An event a channel did not take is kept in the state
// (Pending) and offered to that channel again at the start of the next
// cycle, before any newer event, so each channel sees its events in order;
// the queue is bounded (MaxPending) and the oldest are dropped first.
// Delivery is at least once: a crash between sending and saving sends
// again; the event's id is the same, so receivers can de-duplicate.
//
// Credentials (the SMTP password, the webhook secret) are config.Secret
// and appear in no error, log line or event. Webhook URLs can carry a
// token in their path, so errors name a webhook by scheme and host only.
//
// alert reaches the network directly (it is listed in cmd/routerwatch's
// bypass test): the destinations are endpoints the user configured, not
// devices being probed, and internal/netx's scope is for probes.
package alert
