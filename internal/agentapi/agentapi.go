// SPDX-License-Identifier: Apache-2.0

// Package agentapi is the wire protocol between `routerwatch agent`, which
// runs the audits at a site, and the server's agent endpoint
// (agentserver). It holds the types, their limits and their validation,
// and nothing else: both sides decode with the functions here, so that
// they accept and refuse exactly the same messages.
//
// # Transport
//
// HTTPS (plain HTTP only to a loopback server), JSON bodies, and the
// agent's token in "Authorization: Bearer". The token is bound to one
// site on the server; the messages never name an organisation, and a
// site named in a message is never trusted over the token's.
//
//	GET  /api/v1/agent/schedule   → 200 Schedule
//	POST /api/v1/agent/results    Batch → 200 Ack, or 409 Ack (a gap)
//
// Every other answer is an Ack with Error set (or, from a proxy, no body
// at all): 400 a malformed message, 401 no or a bad token, 403 a token
// that is not an agent's, 413 a body over MaxBatchBytes, 429 too many
// requests (Retry-After), 5xx the server could not store.
//
// # Schedule
//
// What the site's agent runs and how often: a Task per kind (dns, check,
// config_pull) with its interval, and the routers that check and
// config_pull audit (address, port, TLS, adapter; never a login: the
// agent reads the site's router logins from its own credentials file).
// An agent that cannot reach the server keeps the last schedule it got.
//
// # Results, in order and once
//
// Each result carries a sequence number the agent assigns when it writes
// the result to its durable outbox, before sending: 1, 2, 3, … per agent
// ID, never reused. The server keeps, per (site, agent ID), the last
// sequence number it stored, and takes a result only when its Seq is that
// plus one:
//
//   - Seq ≤ last: a duplicate (the agent did not get the ack); acked,
//     not stored again;
//   - Seq = last + 1: stored, and the last sequence moves with it;
//   - Seq > last + 1: a gap; nothing of the batch from there on is
//     stored, and the answer is 409 with ExpectedSeq = last + 1, so that
//     the agent resends from there (or, if it no longer has those
//     results, sends a "dropped" record for them).
//
// So results are idempotent by (site, agent ID, seq), and the server
// stores them in the agent's order. A Batch holds consecutive results
// (each Seq is the previous one's end plus one), oldest first.
//
// A "dropped" result stands for the results Seq..LastSeq that the agent
// gave up (its outbox was full past its cap, oldest first): it carries no
// report, and the server moves its last sequence to LastSeq and records
// that results were lost.
//
// # Versions and strictness
//
// Every message has Version (this package's Version). Envelopes are
// decoded strictly (internal/strictjson: no unknown field, no trailing
// data, bounded size): a field this side does not know is a version
// mismatch to report, not something to skip. The documents an engine
// made (Result.Report, the `dns` and `check` JSON report; Result.Snapshot,
// the router's settings as read by `config pull`) are carried as JSON
// objects and decoded by the server with the engines' own types.
package agentapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// Version is the protocol version of every message.
const Version = 1

// Paths of the endpoint, under BasePath.
const (
	BasePath     = "/api/v1/agent/"
	SchedulePath = BasePath + "schedule"
	ResultsPath  = BasePath + "results"
	// AgentHeader carries the agent's ID on a schedule request, so that
	// the server's log can name it.
	AgentHeader = "Routerwatch-Agent"
)

// Limits. Both sides enforce them: the agent never sends more, and the
// server refuses more before reading it all.
const (
	// MaxScheduleBytes bounds a schedule: a site's routers are dozens.
	MaxScheduleBytes = 1 << 20
	// MaxResultBytes bounds one result as encoded: a `check` report is
	// tens of kilobytes, a router's snapshot with its raw pages a few
	// hundred; the agent keeps a larger snapshot's settings and drops its
	// raw pages (with a warning) to fit.
	MaxResultBytes = 8 << 20
	// MaxBatchBytes bounds a request body.
	MaxBatchBytes = 16 << 20
	// MaxBatchResults bounds the results of one batch.
	MaxBatchResults = 64
	// MaxAckBytes bounds an answer.
	MaxAckBytes = 64 << 10
	// MaxRouters bounds a schedule's routers.
	MaxRouters = 256
	// MinInterval and MaxInterval bound a task's interval: watch's
	// shortest (for labs and tests) and a week.
	MinInterval = 10 * time.Second
	MaxInterval = 7 * 24 * time.Hour
	// MaxErrorText bounds an error's words.
	MaxErrorText = 4096
	// MaxIDLen bounds an agent's ID.
	MaxIDLen = 120
	// MaxSiteIDLen and MaxRouterIDLen bound a site's and a router's
	// IDs: a router is a device of the store (IDs of up to 256 bytes),
	// and the server names a site's own records by the site's ID and a
	// suffix ("/network").
	MaxSiteIDLen   = 240
	MaxRouterIDLen = 256
)

// Kind is what a task runs and what a result is.
type Kind string

// Kinds.
const (
	// KindDNS is the DNS audit of the site's network (`routerwatch dns`).
	KindDNS Kind = "dns"
	// KindCheck is one router's audit (`routerwatch check`, the DNS
	// checks left to KindDNS).
	KindCheck Kind = "check"
	// KindConfigPull reads one router's settings (`routerwatch config
	// pull`); the server keeps and judges them.
	KindConfigPull Kind = "config_pull"
	// KindDropped is a result only: results Seq..LastSeq were given up.
	KindDropped Kind = "dropped"
)

// TaskKinds are the kinds a schedule may hold, in the order an agent
// runs them when several are due at once.
var TaskKinds = []Kind{KindDNS, KindCheck, KindConfigPull}

// Schedule is what a site's agent runs.
type Schedule struct {
	Version int `json:"version"`
	// Site is the site's ID, SiteName its name, for the agent's log.
	Site     string `json:"site"`
	SiteName string `json:"site_name,omitempty"`
	// Tasks are what to run, one per kind at most.
	Tasks []Task `json:"tasks"`
	// Routers are the routers check and config_pull audit. With none,
	// check audits the agent's default gateway and config_pull has
	// nothing to read.
	Routers []Router `json:"routers,omitempty"`
	// RefreshSeconds is how often the agent asks for the schedule
	// again; 0 means at every round.
	RefreshSeconds int `json:"refresh_seconds,omitempty"`
}

// Task is one kind of audit and its interval.
type Task struct {
	Kind            Kind `json:"kind"`
	IntervalSeconds int  `json:"interval_seconds"`
}

// Interval is the task's interval.
func (t Task) Interval() time.Duration { return time.Duration(t.IntervalSeconds) * time.Second }

// Router is one router of the site. Credentials never travel: the agent
// finds the login for Address in its own credentials file.
type Router struct {
	// ID names the router on the server (a device of the site).
	ID      string     `json:"id"`
	Address netip.Addr `json:"address"`
	// Port is the settings adapter's port when it is not the usual
	// one; TLS asks for its encrypted variant.
	Port uint16 `json:"port,omitempty"`
	TLS  bool   `json:"tls,omitempty"`
	// Adapter names the settings adapter; "" or "auto" detects it.
	Adapter string `json:"adapter,omitempty"`
	Label   string `json:"label,omitempty"`
}

// Batch is what the agent posts: consecutive results, oldest first.
type Batch struct {
	Version int `json:"version"`
	// AgentID is the agent's own ID, chosen at its first start and kept
	// in its state directory; sequence numbers count per agent ID.
	AgentID string   `json:"agent_id"`
	Results []Result `json:"results"`
}

// Result is one audit's outcome, or a dropped range.
type Result struct {
	// Seq is the agent's sequence number (from 1).
	Seq  uint64 `json:"seq"`
	Kind Kind   `json:"kind"`
	// Router is the schedule's router ID for check and config_pull
	// ("" for a check of the agent's default gateway); Address where it
	// was reached.
	Router  string     `json:"router,omitempty"`
	Address netip.Addr `json:"address,omitzero"`
	// StartedAt and FinishedAt are the agent's clock.
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Verdict is the engine's one word: the DNS audit's overall verdict
	// (clean, suspicious, hijacked, unknown) or the report's level (ok,
	// incomplete, warning, fail). Headline is its first line, Failing
	// its failing findings.
	Verdict  string `json:"verdict,omitempty"`
	Headline string `json:"headline,omitempty"`
	Failing  int    `json:"failing,omitempty"`
	// Report is the engine's JSON report (dns, check).
	Report json.RawMessage `json:"report,omitempty"`
	// Snapshot is the router's settings as read (config_pull), redacted
	// by the adapter as `config pull` stores them.
	Snapshot json.RawMessage `json:"snapshot,omitempty"`
	// Error says why the audit could not complete; the other fields but
	// the times and the router are then empty.
	Error *Error `json:"error,omitempty"`
	// LastSeq ends a dropped range (KindDropped only).
	LastSeq uint64 `json:"last_seq,omitempty"`
}

// End is the last sequence number the result stands for: Seq, or
// LastSeq for a dropped range.
func (r *Result) End() uint64 {
	if r.Kind == KindDropped {
		return r.LastSeq
	}
	return r.Seq
}

// Error is an audit's failure, classified.
type Error struct {
	Class ErrorClass `json:"class"`
	// Message is the error's words: never a secret (engines keep logins
	// out of their errors).
	Message string `json:"message"`
}

// ErrorClass classifies an audit's failure.
type ErrorClass string

// Error classes.
const (
	ErrorAuth        ErrorClass = "auth"        // the router refused the login
	ErrorBusy        ErrorClass = "busy"        // another admin session holds the router
	ErrorNoAdapter   ErrorClass = "no_adapter"  // no adapter recognised the router
	ErrorRefused     ErrorClass = "refused"     // connection refused
	ErrorTimeout     ErrorClass = "timeout"     // no answer in time
	ErrorUnreachable ErrorClass = "unreachable" // no route
	ErrorProtocol    ErrorClass = "protocol"    // the device answered nonsense
	ErrorNoResolver  ErrorClass = "no_resolver" // the DNS audit found nothing to test
	ErrorNoLogin     ErrorClass = "no_login"    // the agent has no login for the router
	ErrorCanceled    ErrorClass = "canceled"    // the agent stopped mid-audit
	ErrorTooLarge    ErrorClass = "too_large"   // the result did not fit MaxResultBytes
	ErrorOther       ErrorClass = "error"
)

var errorClasses = map[ErrorClass]bool{ErrorAuth: true, ErrorBusy: true, ErrorNoAdapter: true, ErrorRefused: true,
	ErrorTimeout: true, ErrorUnreachable: true, ErrorProtocol: true, ErrorNoResolver: true, ErrorNoLogin: true,
	ErrorCanceled: true, ErrorTooLarge: true, ErrorOther: true}

// NewError makes an Error whose message is valid UTF-8 and at most
// MaxErrorText bytes.
func NewError(class ErrorClass, msg string) *Error {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > MaxErrorText {
		cut := MaxErrorText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return &Error{Class: class, Message: msg}
}

// Ack is the server's answer to a batch, and the body of its errors.
type Ack struct {
	Version int `json:"version"`
	// AckedSeq is the last sequence number the server has stored for
	// this agent (0 for none): the agent may forget every result up to
	// it.
	AckedSeq uint64 `json:"acked_seq"`
	// ExpectedSeq, on a 409, is the sequence number the server needs
	// next.
	ExpectedSeq uint64 `json:"expected_seq,omitempty"`
	// Error says what was wrong, in words.
	Error string `json:"error,omitempty"`
}

// ErrInvalid marks a message that breaks the protocol.
var ErrInvalid = errors.New("agent protocol: invalid message")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// idRe is the form of an agent ID: printable, no spaces, no slashes.
var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]*$`)

// ValidID reports whether s is a valid agent ID: it names the agent's
// ledger on the server and appears in logs.
func ValidID(s string) bool { return len(s) <= MaxIDLen && idRe.MatchString(s) }

// ValidName reports whether s is a valid site or router ID of at most max
// bytes: not empty, valid UTF-8, no control character (the store's rule
// for identifiers).
func ValidName(s string, max int) bool {
	return s != "" && len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// adapterRe is the form of an adapter name.
var adapterRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Validate checks a schedule.
func (s *Schedule) Validate() error {
	if s.Version != Version {
		return invalid("schedule version %d, this agent speaks %d", s.Version, Version)
	}
	if !ValidName(s.Site, MaxSiteIDLen) {
		return invalid("schedule: invalid site ID")
	}
	if len(s.SiteName) > 1024 || !utf8.ValidString(s.SiteName) {
		return invalid("schedule: invalid site name")
	}
	if s.RefreshSeconds < 0 || time.Duration(s.RefreshSeconds)*time.Second > MaxInterval {
		return invalid("schedule: refresh_seconds out of range")
	}
	seen := map[Kind]bool{}
	for _, t := range s.Tasks {
		if t.Kind == KindDropped || !validKind(t.Kind) {
			return invalid("schedule: unknown task kind %q", t.Kind)
		}
		if seen[t.Kind] {
			return invalid("schedule: task %s twice", t.Kind)
		}
		seen[t.Kind] = true
		if d := t.Interval(); t.IntervalSeconds <= 0 || d < MinInterval || d > MaxInterval {
			return invalid("schedule: task %s: interval_seconds must be between %d and %d", t.Kind, int(MinInterval.Seconds()), int(MaxInterval.Seconds()))
		}
	}
	if len(s.Routers) > MaxRouters {
		return invalid("schedule: more than %d routers", MaxRouters)
	}
	ids := map[string]bool{}
	for i, r := range s.Routers {
		switch {
		case !ValidName(r.ID, MaxRouterIDLen):
			return invalid("schedule: router %d: invalid ID", i)
		case ids[r.ID]:
			return invalid("schedule: router ID %q twice", r.ID)
		case !r.Address.IsValid() || r.Address.Zone() != "":
			return invalid("schedule: router %s: invalid address", r.ID)
		case r.Adapter != "" && !adapterRe.MatchString(r.Adapter):
			return invalid("schedule: router %s: invalid adapter name", r.ID)
		case len(r.Label) > 1024 || !utf8.ValidString(r.Label):
			return invalid("schedule: router %s: invalid label", r.ID)
		}
		ids[r.ID] = true
	}
	return nil
}

func validKind(k Kind) bool {
	switch k {
	case KindDNS, KindCheck, KindConfigPull, KindDropped:
		return true
	}
	return false
}

// Validate checks one result on its own (not its place in a batch).
func (r *Result) Validate() error {
	if r.Seq == 0 {
		return invalid("result: seq must be at least 1")
	}
	if !validKind(r.Kind) {
		return invalid("result %d: unknown kind %q", r.Seq, r.Kind)
	}
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		return invalid("result %d: started_at and finished_at are required", r.Seq)
	}
	if r.Router != "" && !ValidName(r.Router, MaxRouterIDLen) {
		return invalid("result %d: invalid router ID", r.Seq)
	}
	if len(r.Headline) > MaxErrorText || !utf8.ValidString(r.Headline) || len(r.Verdict) > 32 || r.Failing < 0 {
		return invalid("result %d: invalid summary", r.Seq)
	}
	for name, doc := range map[string]json.RawMessage{"report": r.Report, "snapshot": r.Snapshot} {
		if len(doc) > 0 && (!json.Valid(doc) || bytes.TrimSpace(doc)[0] != '{') {
			return invalid("result %d: %s is not a JSON object", r.Seq, name)
		}
	}
	if r.Error != nil {
		if !errorClasses[r.Error.Class] {
			return invalid("result %d: unknown error class %q", r.Seq, r.Error.Class)
		}
		if len(r.Error.Message) > MaxErrorText || !utf8.ValidString(r.Error.Message) {
			return invalid("result %d: invalid error message", r.Seq)
		}
		if len(r.Report) > 0 || len(r.Snapshot) > 0 {
			return invalid("result %d: an error result carries no report", r.Seq)
		}
	}
	switch r.Kind {
	case KindDropped:
		if r.LastSeq < r.Seq || len(r.Report) > 0 || len(r.Snapshot) > 0 || r.Error != nil {
			return invalid("result %d: a dropped range needs last_seq ≥ seq and nothing else", r.Seq)
		}
		return nil
	case KindDNS:
		if r.Error == nil {
			switch r.Verdict {
			case "clean", "suspicious", "hijacked", "unknown":
			default:
				return invalid("result %d: unknown DNS verdict %q", r.Seq, r.Verdict)
			}
			if len(r.Report) == 0 {
				return invalid("result %d: a DNS result needs its report", r.Seq)
			}
		}
	case KindCheck:
		if r.Error == nil && len(r.Report) == 0 {
			return invalid("result %d: a check result needs its report", r.Seq)
		}
	case KindConfigPull:
		if r.Router == "" {
			return invalid("result %d: a config pull names its router", r.Seq)
		}
		if r.Error == nil && len(r.Snapshot) == 0 {
			return invalid("result %d: a config pull needs its snapshot", r.Seq)
		}
	}
	if r.LastSeq != 0 {
		return invalid("result %d: last_seq is for dropped ranges only", r.Seq)
	}
	return nil
}

// Validate checks a batch: its version, the agent ID, and that its
// results are valid and consecutive.
func (b *Batch) Validate() error {
	if b.Version != Version {
		return invalid("batch version %d, this server speaks %d", b.Version, Version)
	}
	if !ValidID(b.AgentID) {
		return invalid("batch: invalid agent ID")
	}
	if len(b.Results) == 0 || len(b.Results) > MaxBatchResults {
		return invalid("batch: %d results, want 1 to %d", len(b.Results), MaxBatchResults)
	}
	for i := range b.Results {
		r := &b.Results[i]
		if err := r.Validate(); err != nil {
			return err
		}
		if i > 0 && r.Seq != b.Results[i-1].End()+1 {
			return invalid("batch: result %d follows %d: not consecutive", r.Seq, b.Results[i-1].End())
		}
	}
	return nil
}

// DecodeSchedule reads and validates a schedule.
func DecodeSchedule(rd io.Reader) (*Schedule, error) {
	var s Schedule
	if err := strictjson.Decode(rd, MaxScheduleBytes, &s); err != nil {
		return nil, fmt.Errorf("%w: schedule: %v", ErrInvalid, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeBatch reads and validates a batch.
func DecodeBatch(rd io.Reader) (*Batch, error) {
	var b Batch
	if err := strictjson.Decode(rd, MaxBatchBytes, &b); err != nil {
		return nil, fmt.Errorf("%w: batch: %w", ErrInvalid, err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// DecodeResult reads and validates one result (an agent's outbox file).
func DecodeResult(rd io.Reader) (*Result, error) {
	var r Result
	if err := strictjson.Decode(rd, MaxResultBytes, &r); err != nil {
		return nil, fmt.Errorf("%w: result: %v", ErrInvalid, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// DecodeAck reads an answer.
func DecodeAck(rd io.Reader) (*Ack, error) {
	var a Ack
	if err := strictjson.Decode(rd, MaxAckBytes, &a); err != nil {
		return nil, fmt.Errorf("%w: answer: %v", ErrInvalid, err)
	}
	if a.Version != Version {
		return nil, invalid("answer version %d, this agent speaks %d", a.Version, Version)
	}
	if len(a.Error) > MaxErrorText || !utf8.ValidString(a.Error) {
		return nil, invalid("answer: invalid error text")
	}
	return &a, nil
}
