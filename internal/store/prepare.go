// SPDX-License-Identifier: Apache-2.0

package store

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// The functions in this file are the contract's rules in code, shared by
// every implementation so that SQLite and PostgreSQL accept, refuse and
// normalize the same inputs the same way. An implementation calls the
// Prepare function of a record before it writes anything.

// Bounds of what a store accepts. They are far above what a router's
// settings need and keep one bad input from filling the disk.
const (
	// MaxStateBytes bounds one state blob: a delivery queue of a few
	// hundred events.
	MaxStateBytes = 4 << 20
	// MaxIDLen bounds identifiers, in bytes.
	MaxIDLen = 256
	// MaxTextLen bounds one free-text value, in bytes.
	MaxTextLen = 64 << 10
	// MaxSnapshotBytes bounds a snapshot: its raw artifacts' bodies plus
	// its normalized configuration as JSON.
	MaxSnapshotBytes = 64 << 20
	// MaxArtifacts bounds the raw artifacts of one snapshot.
	MaxArtifacts = 10000
	// MaxReportBytes bounds an audit's report.
	MaxReportBytes = 16 << 20
	// MaxItems bounds the changes of one event and the problems of one
	// reconciliation.
	MaxItems = 10000
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// CheckID checks an identifier: non-empty, valid UTF-8, no control
// characters, at most MaxIDLen bytes. field names it in the error; the
// value is never in the error.
func CheckID(field, id string) error {
	switch {
	case id == "":
		return invalid("%s is empty", field)
	case len(id) > MaxIDLen:
		return invalid("%s is longer than %d bytes", field, MaxIDLen)
	case !utf8.ValidString(id):
		return invalid("%s is not valid UTF-8", field)
	case strings.ContainsFunc(id, unicode.IsControl):
		return invalid("%s contains control characters", field)
	}
	return nil
}

// checkOptionalID is CheckID for an identifier that may be empty.
func checkOptionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return CheckID(field, id)
}

// Text returns s as the store keeps free text: invalid UTF-8 and NUL
// (which PostgreSQL's text cannot hold) replaced by U+FFFD.
func Text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// text is Text with the length bound.
func text(field, s string) (string, error) {
	if len(s) > MaxTextLen {
		return "", invalid("%s is longer than %d bytes", field, MaxTextLen)
	}
	return Text(s), nil
}

// Timestamp returns t as the store keeps it: UTC, truncated to the
// microsecond.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Earliest and latest times a store accepts: years 1 to 9999, which both
// SQLite's integers and PostgreSQL's timestamptz hold.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkTime normalizes t (zero means now when now is given).
func checkTime(field string, t time.Time, now func() time.Time) (time.Time, error) {
	if t.IsZero() && now != nil {
		t = now()
	}
	t = Timestamp(t)
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, invalid("%s is not a time between the years 1 and 9999", field)
	}
	return t, nil
}

// Window returns the LIMIT and OFFSET of a page.
func (p Page) Window() (limit, offset int, err error) {
	if p.Offset < 0 {
		return 0, 0, invalid("page offset is negative")
	}
	limit = p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return min(limit, MaxLimit), p.Offset, nil
}

// PrepareDevice checks d and returns it as it will be stored (times are
// left to the implementation).
func PrepareDevice(d Device) (Device, error) {
	if err := CheckID("device ID", d.ID); err != nil {
		return Device{}, err
	}
	if err := checkOptionalID("site", d.Site); err != nil {
		return Device{}, err
	}
	if err := checkOptionalID("adapter", d.Adapter); err != nil {
		return Device{}, err
	}
	var err error
	if d.Address, err = text("address", d.Address); err != nil {
		return Device{}, err
	}
	if d.Label, err = text("label", d.Label); err != nil {
		return Device{}, err
	}
	return d, nil
}

// ConfigHash returns "sha256:" and the hex SHA-256 of c's JSON encoding,
// which is canonical (struct fields in order, map keys sorted): the same
// settings read by the same adapter give the same hash.
func ConfigHash(c *device.Config) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the configuration: %w", err)
	}
	return hashOf(b), nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// EncodedSnapshot is a snapshot checked and encoded for storing.
type EncodedSnapshot struct {
	Adapter string
	Target  netip.Addr
	TakenAt time.Time
	// Config is the normalized configuration as JSON, ConfigHash its
	// hash.
	Config     []byte
	ConfigHash string
	// Warnings is the warnings as a JSON array of strings.
	Warnings     []byte
	WarningCount int
	// Raw are the artifacts with their names and content types as
	// free text; RawBytes is the total size of their bodies.
	Raw      []device.Artifact
	RawBytes int64
}

// EncodeSnapshot checks s and encodes it for storing.
func EncodeSnapshot(s *device.Snapshot) (EncodedSnapshot, error) {
	if s == nil {
		return EncodedSnapshot{}, invalid("snapshot is nil")
	}
	if err := CheckID("snapshot adapter", s.Adapter); err != nil {
		return EncodedSnapshot{}, err
	}
	if s.TakenAt.IsZero() {
		return EncodedSnapshot{}, invalid("snapshot has no TakenAt")
	}
	takenAt, err := checkTime("snapshot TakenAt", s.TakenAt, nil)
	if err != nil {
		return EncodedSnapshot{}, err
	}
	if len(s.Raw) > MaxArtifacts {
		return EncodedSnapshot{}, invalid("snapshot has more than %d raw artifacts", MaxArtifacts)
	}
	config, err := json.Marshal(&s.Config)
	if err != nil {
		return EncodedSnapshot{}, invalid("snapshot configuration does not encode: %v", err)
	}
	e := EncodedSnapshot{
		Adapter:      s.Adapter,
		Target:       s.Target,
		TakenAt:      takenAt,
		Config:       config,
		ConfigHash:   hashOf(config),
		WarningCount: len(s.Warnings),
		Raw:          make([]device.Artifact, len(s.Raw)),
	}
	total := int64(len(config))
	if total > MaxSnapshotBytes {
		return EncodedSnapshot{}, invalid("snapshot is larger than %d bytes", MaxSnapshotBytes)
	}
	for i, a := range s.Raw {
		total += int64(len(a.Body))
		if total > MaxSnapshotBytes {
			return EncodedSnapshot{}, invalid("snapshot is larger than %d bytes", MaxSnapshotBytes)
		}
		if a.Redacted < 0 {
			return EncodedSnapshot{}, invalid("raw artifact %d has a negative redaction count", i)
		}
		e.RawBytes += int64(len(a.Body))
		a.Name, err = text(fmt.Sprintf("raw artifact %d name", i), a.Name)
		if err != nil {
			return EncodedSnapshot{}, err
		}
		a.ContentType, err = text(fmt.Sprintf("raw artifact %d content type", i), a.ContentType)
		if err != nil {
			return EncodedSnapshot{}, err
		}
		e.Raw[i] = a
	}
	warnings := make([]string, len(s.Warnings))
	for i, w := range s.Warnings {
		if warnings[i], err = text(fmt.Sprintf("warning %d", i), w); err != nil {
			return EncodedSnapshot{}, err
		}
	}
	if e.Warnings, err = json.Marshal(warnings); err != nil {
		return EncodedSnapshot{}, fmt.Errorf("encoding warnings: %w", err)
	}
	return e, nil
}

// DecodeSnapshot rebuilds a stored snapshot from its metadata, its
// configuration and warnings as EncodeSnapshot wrote them, and its raw
// artifacts in order.
func DecodeSnapshot(meta SnapshotMeta, config, warnings []byte, raw []device.Artifact) (StoredSnapshot, error) {
	s := StoredSnapshot{Meta: meta, Snapshot: device.Snapshot{
		Target:  meta.Target,
		Adapter: meta.Adapter,
		TakenAt: meta.TakenAt,
		Raw:     raw,
	}}
	if err := json.Unmarshal(config, &s.Snapshot.Config); err != nil {
		return StoredSnapshot{}, fmt.Errorf("snapshot %d: stored configuration does not decode: %w", meta.ID, err)
	}
	if err := json.Unmarshal(warnings, &s.Snapshot.Warnings); err != nil {
		return StoredSnapshot{}, fmt.Errorf("snapshot %d: stored warnings do not decode: %w", meta.ID, err)
	}
	if len(s.Snapshot.Warnings) == 0 {
		s.Snapshot.Warnings = nil
	}
	return s, nil
}

// PrepareBaseline checks b and fills SetAt (zero means now()).
func PrepareBaseline(b Baseline, now func() time.Time) (Baseline, error) {
	if err := CheckID("device ID", b.DeviceID); err != nil {
		return Baseline{}, err
	}
	if b.SnapshotID <= 0 {
		return Baseline{}, invalid("baseline snapshot ID is not positive")
	}
	var err error
	if b.SetAt, err = checkTime("baseline SetAt", b.SetAt, now); err != nil {
		return Baseline{}, err
	}
	if b.Note, err = text("baseline note", b.Note); err != nil {
		return Baseline{}, err
	}
	b.ID = 0
	return b, nil
}

// PrepareAudit checks a and fills At (zero means now()).
func PrepareAudit(a Audit, now func() time.Time) (Audit, error) {
	if err := checkOptionalID("device ID", a.DeviceID); err != nil {
		return Audit{}, err
	}
	if err := CheckID("audit kind", a.Kind); err != nil {
		return Audit{}, err
	}
	if a.Failing < 0 {
		return Audit{}, invalid("audit failing count is negative")
	}
	if len(a.Report) > MaxReportBytes {
		return Audit{}, invalid("audit report is larger than %d bytes", MaxReportBytes)
	}
	if len(a.Report) > 0 && !json.Valid(a.Report) {
		return Audit{}, invalid("audit report is not valid JSON")
	}
	var err error
	if a.At, err = checkTime("audit At", a.At, now); err != nil {
		return Audit{}, err
	}
	if a.Verdict, err = text("audit verdict", a.Verdict); err != nil {
		return Audit{}, err
	}
	if a.Headline, err = text("audit headline", a.Headline); err != nil {
		return Audit{}, err
	}
	a.ID = 0
	return a, nil
}

// PrepareChanges checks e and fills At (zero means now()).
func PrepareChanges(e ChangeEvent, now func() time.Time) (ChangeEvent, error) {
	if err := CheckID("device ID", e.DeviceID); err != nil {
		return ChangeEvent{}, err
	}
	if e.FromSnapshot <= 0 || e.ToSnapshot <= 0 {
		return ChangeEvent{}, invalid("change event snapshot IDs are not positive")
	}
	if len(e.Changes) > MaxItems {
		return ChangeEvent{}, invalid("change event has more than %d changes", MaxItems)
	}
	var err error
	if e.At, err = checkTime("change event At", e.At, now); err != nil {
		return ChangeEvent{}, err
	}
	changes := make([]Change, len(e.Changes))
	for i, c := range e.Changes {
		if c.Severity > finding.SeverityCritical {
			return ChangeEvent{}, invalid("change %d has an invalid severity", i)
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"path", &c.Path}, {"what", &c.What}, {"kind", (*string)(&c.Kind)}, {"old value", &c.Old}, {"new value", &c.New}, {"words", &c.Words}} {
			if *f.v, err = text(fmt.Sprintf("change %d %s", i, f.name), *f.v); err != nil {
				return ChangeEvent{}, err
			}
		}
		changes[i] = c
	}
	e.Changes = changes
	e.ID = 0
	return e, nil
}

// PrepareProblems checks the problems of a reconciliation and returns
// them sorted by key.
func PrepareProblems(deviceID, kind string, at time.Time, present []Problem) (time.Time, []Problem, error) {
	if err := CheckID("device ID", deviceID); err != nil {
		return time.Time{}, nil, err
	}
	if err := CheckID("alert kind", kind); err != nil {
		return time.Time{}, nil, err
	}
	if at.IsZero() {
		return time.Time{}, nil, invalid("reconciliation time is zero")
	}
	at, err := checkTime("reconciliation time", at, nil)
	if err != nil {
		return time.Time{}, nil, err
	}
	if len(present) > MaxItems {
		return time.Time{}, nil, invalid("more than %d problems", MaxItems)
	}
	out := make([]Problem, len(present))
	for i, p := range present {
		if err := CheckID(fmt.Sprintf("problem %d key", i), p.Key); err != nil {
			return time.Time{}, nil, err
		}
		if p.Severity > finding.SeverityCritical {
			return time.Time{}, nil, invalid("problem %d has an invalid severity", i)
		}
		if p.Title, err = text(fmt.Sprintf("problem %d title", i), p.Title); err != nil {
			return time.Time{}, nil, err
		}
		if p.Detail, err = text(fmt.Sprintf("problem %d detail", i), p.Detail); err != nil {
			return time.Time{}, nil, err
		}
		out[i] = p
	}
	slices.SortFunc(out, func(a, b Problem) int { return cmp.Compare(a.Key, b.Key) })
	for i := 1; i < len(out); i++ {
		if out[i].Key == out[i-1].Key {
			return time.Time{}, nil, invalid("two problems have the same key")
		}
	}
	return at, out, nil
}

// CheckNotice checks the arguments of MarkNotified and normalizes at.
func CheckNotice(alertID int64, state AlertState, at time.Time) (time.Time, error) {
	if alertID <= 0 {
		return time.Time{}, invalid("alert ID is not positive")
	}
	if state != AlertOpen && state != AlertResolved {
		return time.Time{}, invalid("alert state is neither open nor resolved")
	}
	if at.IsZero() {
		return time.Time{}, invalid("notice time is zero")
	}
	return checkTime("notice time", at, nil)
}

// CheckAuditFilter checks f.
func CheckAuditFilter(f AuditFilter) error {
	if err := checkOptionalID("device ID", f.DeviceID); err != nil {
		return err
	}
	return checkOptionalID("audit kind", f.Kind)
}

// CheckOptionalDevice checks a device ID that may be empty (meaning
// every device).
func CheckOptionalDevice(id string) error { return checkOptionalID("device ID", id) }

// CheckAlertFilter checks f.
func CheckAlertFilter(f AlertFilter) error {
	if err := checkOptionalID("device ID", f.DeviceID); err != nil {
		return err
	}
	if err := checkOptionalID("alert kind", f.Kind); err != nil {
		return err
	}
	if f.State != "" && f.State != AlertOpen && f.State != AlertResolved {
		return invalid("alert filter state is neither open nor resolved")
	}
	return nil
}

// DecodeSeverity reads a severity stored by its name.
func DecodeSeverity(name string) (finding.Severity, error) {
	s, err := finding.ParseSeverity(name)
	if err != nil {
		return 0, fmt.Errorf("stored severity: %w", err)
	}
	return s, nil
}
