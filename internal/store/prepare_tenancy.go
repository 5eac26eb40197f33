// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// Bounds of the fleet's records.
const (
	// MaxSchedule bounds a site's schedule: a year.
	MaxSchedule = 366 * 24 * time.Hour
	// MaxPasswordHashLen bounds a PHC string, in bytes; argon2id's with
	// a 16-byte salt and a 32-byte hash is about 100.
	MaxPasswordHashLen = 512
	// MaxTokenPrefixLen bounds a token's public prefix, in bytes.
	MaxTokenPrefixLen = 64
	// MaxRangeRecordBytes bounds one range record's JSON.
	MaxRangeRecordBytes = 1 << 20
	// MaxRangeBatchBytes bounds the records' JSON of one batch.
	MaxRangeBatchBytes = 64 << 20
	// MaxRangeRate bounds a scope's per-prefix rate, in addresses per
	// second.
	MaxRangeRate = 1e6
)

// argon2idPrefix starts every argon2id PHC string.
const argon2idPrefix = "$argon2id$"

// requiredText is text that must not be empty.
func requiredText(field, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", invalid("%s is empty", field)
	}
	return text(field, s)
}

// checkOrg fills an empty organisation ID of a record with the Tenant's
// and refuses another organisation's.
func checkOrg(what, recordOrg, org string) (string, error) {
	if err := CheckID("organisation ID", org); err != nil {
		return "", err
	}
	if recordOrg != "" && recordOrg != org {
		return "", invalid("%s belongs to another organisation than the store's", what)
	}
	return org, nil
}

// CheckOrgID checks the organisation ID of a Tenant.
func CheckOrgID(org string) error { return CheckID("organisation ID", org) }

// PrepareOrg checks o and returns it as it will be stored (CreatedAt is
// left to the implementation).
func PrepareOrg(o Org) (Org, error) {
	if err := CheckID("organisation ID", o.ID); err != nil {
		return Org{}, err
	}
	var err error
	if o.Name, err = requiredText("organisation name", o.Name); err != nil {
		return Org{}, err
	}
	return o, nil
}

// PrepareSite checks s for organisation org and returns it as it will be
// stored (times are left to the implementation).
func PrepareSite(s Site, org string) (Site, error) {
	var err error
	if s.OrgID, err = checkOrg("site", s.OrgID, org); err != nil {
		return Site{}, err
	}
	if err := CheckID("site ID", s.ID); err != nil {
		return Site{}, err
	}
	if s.Name, err = requiredText("site name", s.Name); err != nil {
		return Site{}, err
	}
	if s.PublicAddr.Zone() != "" {
		return Site{}, invalid("site public address has a zone")
	}
	if s.Schedule < 0 || s.Schedule > MaxSchedule {
		return Site{}, invalid("site schedule is not between 0 and %v", MaxSchedule)
	}
	return s, nil
}

// CheckUserRole checks the role of a user.
func CheckUserRole(r Role) error {
	switch r {
	case RoleAdmin, RoleOperator, RoleViewer:
		return nil
	}
	return invalid("user role is not admin, operator or viewer")
}

// CheckPasswordHash checks that h is shaped like an argon2id PHC string:
// it refuses what cannot be one (a password passed by mistake among
// them) without saying what it was.
func CheckPasswordHash(h string) error {
	if !strings.HasPrefix(h, argon2idPrefix) {
		return invalid("password hash is not an argon2id PHC string")
	}
	if len(h) > MaxPasswordHashLen {
		return invalid("password hash is longer than %d bytes", MaxPasswordHashLen)
	}
	for i := 0; i < len(h); i++ {
		if h[i] <= ' ' || h[i] > '~' {
			return invalid("password hash has a character a PHC string cannot have")
		}
	}
	return nil
}

// LoginKey is what login names are compared by: ASCII letters folded to
// lower case, everything else as it is (so that both databases compare
// alike, whatever their collation).
func LoginKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// PrepareUser checks u for organisation org and returns it as it will be
// stored (ID, CreatedAt and LastLogin are left to the implementation).
func PrepareUser(u User, org string) (User, error) {
	var err error
	if u.OrgID, err = checkOrg("user", u.OrgID, org); err != nil {
		return User{}, err
	}
	if err := CheckID("login name", u.Name); err != nil {
		return User{}, err
	}
	if err := CheckUserRole(u.Role); err != nil {
		return User{}, err
	}
	if err := CheckPasswordHash(u.PasswordHash); err != nil {
		return User{}, err
	}
	u.ID, u.CreatedAt, u.LastLogin = 0, time.Time{}, time.Time{}
	return u, nil
}

// PrepareUserUpdate checks u.
func PrepareUserUpdate(id int64, u UserUpdate) error {
	if id <= 0 {
		return invalid("user ID is not positive")
	}
	if u.Role != "" {
		if err := CheckUserRole(u.Role); err != nil {
			return err
		}
	}
	if u.PasswordHash != "" {
		return CheckPasswordHash(u.PasswordHash)
	}
	return nil
}

// checkHash checks a SHA-256 hash.
func checkHash(field string, h []byte) error {
	if len(h) != sha256.Size {
		return invalid("%s is not a SHA-256 hash (%d bytes)", field, sha256.Size)
	}
	return nil
}

// CheckTokenPrefix checks a token's public prefix.
func CheckTokenPrefix(prefix string) error {
	if err := CheckID("token prefix", prefix); err != nil {
		return err
	}
	if len(prefix) > MaxTokenPrefixLen {
		return invalid("token prefix is longer than %d bytes", MaxTokenPrefixLen)
	}
	return nil
}

// PrepareToken checks t for organisation org and returns it as it will
// be stored (ID, CreatedAt, LastUsed and RevokedAt are left to the
// implementation).
func PrepareToken(t Token, org string) (Token, error) {
	var err error
	if t.OrgID, err = checkOrg("token", t.OrgID, org); err != nil {
		return Token{}, err
	}
	if err := checkOptionalID("token site ID", t.SiteID); err != nil {
		return Token{}, err
	}
	switch t.Role {
	case RoleAdmin, RoleOperator, RoleViewer:
		if t.SiteID != "" {
			return Token{}, invalid("a token bound to a site must have the agent role")
		}
	case RoleAgent:
		if t.SiteID == "" {
			return Token{}, invalid("an agent's token has no site")
		}
	default:
		return Token{}, invalid("token role is not admin, operator, viewer or agent")
	}
	if t.Name, err = requiredText("token name", t.Name); err != nil {
		return Token{}, err
	}
	if err := checkHash("token hash", t.Hash); err != nil {
		return Token{}, err
	}
	t.Hash = bytes.Clone(t.Hash)
	if err := CheckTokenPrefix(t.Prefix); err != nil {
		return Token{}, err
	}
	if t.CreatedBy, err = text("token created by", t.CreatedBy); err != nil {
		return Token{}, err
	}
	if !t.ExpiresAt.IsZero() {
		if t.ExpiresAt, err = checkTime("token ExpiresAt", t.ExpiresAt, nil); err != nil {
			return Token{}, err
		}
	}
	t.ID, t.CreatedAt, t.LastUsed, t.RevokedAt = 0, time.Time{}, time.Time{}, time.Time{}
	return t, nil
}

// CheckSessionID checks a session ID (a SHA-256 hash).
func CheckSessionID(id []byte) error { return checkHash("session ID", id) }

// PrepareSession checks s and fills its times: a zero CreatedAt means
// now(), a zero LastSeen means CreatedAt; ExpiresAt is required.
func PrepareSession(s Session, now func() time.Time) (Session, error) {
	if err := CheckSessionID(s.ID); err != nil {
		return Session{}, err
	}
	s.ID = bytes.Clone(s.ID)
	if s.UserID <= 0 {
		return Session{}, invalid("session user ID is not positive")
	}
	if len(s.CSRFHash) > 0 {
		if err := checkHash("session CSRF hash", s.CSRFHash); err != nil {
			return Session{}, err
		}
		s.CSRFHash = bytes.Clone(s.CSRFHash)
	} else {
		s.CSRFHash = nil
	}
	var err error
	if s.CreatedAt, err = checkTime("session CreatedAt", s.CreatedAt, now); err != nil {
		return Session{}, err
	}
	if s.ExpiresAt.IsZero() {
		return Session{}, invalid("session has no ExpiresAt")
	}
	if s.ExpiresAt, err = checkTime("session ExpiresAt", s.ExpiresAt, nil); err != nil {
		return Session{}, err
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = s.CreatedAt
	}
	if s.LastSeen, err = checkTime("session LastSeen", s.LastSeen, nil); err != nil {
		return Session{}, err
	}
	return s, nil
}

// CheckSessionTouch checks the arguments of TouchSession and normalizes
// the times.
func CheckSessionTouch(id []byte, seen, expires time.Time) (time.Time, time.Time, error) {
	if err := CheckSessionID(id); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if seen.IsZero() || expires.IsZero() {
		return time.Time{}, time.Time{}, invalid("session touch time or expiry is zero")
	}
	seen, err := checkTime("session LastSeen", seen, nil)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	expires, err = checkTime("session ExpiresAt", expires, nil)
	return seen, expires, err
}

// CheckEventTime checks the id and time of a touch, a login or a
// revocation (zero means now()).
func CheckEventTime(what string, id int64, at time.Time, now func() time.Time) (time.Time, error) {
	if id <= 0 {
		return time.Time{}, invalid("%s ID is not positive", what)
	}
	if at.IsZero() && now == nil {
		return time.Time{}, invalid("%s time is zero", what)
	}
	return checkTime(what+" time", at, now)
}

// PrepareAuditEntry checks e for organisation org (an empty OrgID is
// org) and fills At (zero means now()).
func PrepareAuditEntry(e AuditEntry, org string, now func() time.Time) (AuditEntry, error) {
	var err error
	if e.OrgID, err = checkOrg("audit log entry", e.OrgID, org); err != nil {
		return AuditEntry{}, err
	}
	if e.Actor, err = requiredText("audit log actor", e.Actor); err != nil {
		return AuditEntry{}, err
	}
	if err := CheckID("audit log action", e.Action); err != nil {
		return AuditEntry{}, err
	}
	if e.Object, err = text("audit log object", e.Object); err != nil {
		return AuditEntry{}, err
	}
	if e.Detail, err = text("audit log detail", e.Detail); err != nil {
		return AuditEntry{}, err
	}
	if e.At, err = checkTime("audit log At", e.At, now); err != nil {
		return AuditEntry{}, err
	}
	e.ID = 0
	return e, nil
}

// ContextAudit returns the audit entry of ctx (see WithAudit) prepared
// for a write in organisation org, or ok false if ctx has none.
func ContextAudit(ctx context.Context, org string, now func() time.Time) (e AuditEntry, ok bool, err error) {
	e, ok = AuditFrom(ctx)
	if !ok {
		return AuditEntry{}, false, nil
	}
	e, err = PrepareAuditEntry(e, org, now)
	return e, err == nil, err
}

// CheckAck checks the arguments of AckAlert.
func CheckAck(id int64, by string, at time.Time, now func() time.Time) (string, time.Time, error) {
	if id <= 0 {
		return "", time.Time{}, invalid("alert ID is not positive")
	}
	by, err := requiredText("acknowledged by", by)
	if err != nil {
		return "", time.Time{}, err
	}
	at, err = checkTime("acknowledgement time", at, now)
	return by, at, err
}

// CheckSuppress checks the arguments of SuppressAlert.
func CheckSuppress(id int64, until time.Time) (time.Time, error) {
	if id <= 0 {
		return time.Time{}, invalid("alert ID is not positive")
	}
	if until.IsZero() {
		return time.Time{}, nil
	}
	return checkTime("suppressed until", until, nil)
}

// PrepareRangeScope checks sc for organisation org and returns it as it
// will be stored (ID and CreatedAt are left to the implementation).
func PrepareRangeScope(sc RangeScope, org string) (RangeScope, error) {
	var err error
	if sc.OrgID, err = checkOrg("range scope", sc.OrgID, org); err != nil {
		return RangeScope{}, err
	}
	if len(sc.Prefixes) == 0 {
		return RangeScope{}, invalid("range scope has no prefix")
	}
	if len(sc.Prefixes) > MaxItems {
		return RangeScope{}, invalid("range scope has more than %d prefixes", MaxItems)
	}
	seen := make(map[netip.Prefix]bool, len(sc.Prefixes))
	for i, p := range sc.Prefixes {
		if !p.IsValid() {
			return RangeScope{}, invalid("range scope prefix %d is not a prefix", i)
		}
		if p.Masked() != p {
			return RangeScope{}, invalid("range scope prefix %d has host bits set", i)
		}
		if seen[p] {
			return RangeScope{}, invalid("range scope prefix %d is there twice", i)
		}
		seen[p] = true
	}
	sc.Prefixes = slices.Clone(sc.Prefixes)
	if sc.Owner, err = requiredText("range scope owner", sc.Owner); err != nil {
		return RangeScope{}, err
	}
	if sc.Reason, err = requiredText("range scope reason", sc.Reason); err != nil {
		return RangeScope{}, err
	}
	if sc.CreatedBy, err = text("range scope created by", sc.CreatedBy); err != nil {
		return RangeScope{}, err
	}
	if math.IsNaN(sc.PerPrefixRate) || sc.PerPrefixRate <= 0 || sc.PerPrefixRate > MaxRangeRate {
		return RangeScope{}, invalid("range scope rate is not above 0 and at most %g", float64(MaxRangeRate))
	}
	sc.ID, sc.CreatedAt = 0, time.Time{}
	return sc, nil
}

// EncodePrefixes encodes a scope's prefixes as a JSON array of strings.
func EncodePrefixes(ps []netip.Prefix) ([]byte, error) { return json.Marshal(ps) }

// DecodePrefixes reads what EncodePrefixes wrote.
func DecodePrefixes(b []byte) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("stored range scope prefixes do not decode: %w", err)
	}
	return ps, nil
}

// CheckRangeFinish checks the arguments of FinishRangeRun.
func CheckRangeFinish(id int64, state RangeState, at time.Time, now func() time.Time) (time.Time, error) {
	if id <= 0 {
		return time.Time{}, invalid("range run ID is not positive")
	}
	switch state {
	case RangeDone, RangeFailed, RangeCancelled:
	default:
		return time.Time{}, invalid("range run final state is not done, failed or cancelled")
	}
	return checkTime("range run finish time", at, now)
}

// CheckRangeState reads a stored range run state.
func CheckRangeState(s string) (RangeState, error) {
	switch st := RangeState(s); st {
	case RangeRunning, RangeDone, RangeFailed, RangeCancelled:
		return st, nil
	}
	return "", fmt.Errorf("stored range run state %q is unknown", s)
}

// PrepareRangeRecords checks a batch of records of run runID and returns
// them as they will be stored: addresses unmapped, RunID set, a zero At
// now(), the worst severity by its canonical name. An address may be in
// a batch once.
func PrepareRangeRecords(runID int64, recs []RangeRecord, now func() time.Time) ([]RangeRecord, error) {
	if runID <= 0 {
		return nil, invalid("range run ID is not positive")
	}
	if len(recs) > MaxItems {
		return nil, invalid("more than %d range records in one batch", MaxItems)
	}
	out := make([]RangeRecord, len(recs))
	seen := make(map[netip.Addr]bool, len(recs))
	total := 0
	var err error
	for i, r := range recs {
		if !r.Address.IsValid() {
			return nil, invalid("range record %d has no address", i)
		}
		if r.Address.Zone() != "" {
			return nil, invalid("range record %d address has a zone", i)
		}
		r.Address = r.Address.Unmap()
		if seen[r.Address] {
			return nil, invalid("range record %d repeats an address of the batch", i)
		}
		seen[r.Address] = true
		if !r.Prefix.IsValid() || r.Prefix.Masked() != r.Prefix {
			return nil, invalid("range record %d prefix is not a prefix without host bits", i)
		}
		if !r.Prefix.Contains(r.Address) {
			return nil, invalid("range record %d address is not in its prefix", i)
		}
		if len(r.Record) > MaxRangeRecordBytes {
			return nil, invalid("range record %d is larger than %d bytes", i, MaxRangeRecordBytes)
		}
		if total += len(r.Record); total > MaxRangeBatchBytes {
			return nil, invalid("range records batch is larger than %d bytes", MaxRangeBatchBytes)
		}
		if len(r.Record) > 0 && !json.Valid(r.Record) {
			return nil, invalid("range record %d is not valid JSON", i)
		}
		if r.Failing < 0 {
			return nil, invalid("range record %d failing count is negative", i)
		}
		if r.WorstSeverity != "" {
			sev, err := finding.ParseSeverity(r.WorstSeverity)
			if err != nil {
				return nil, invalid("range record %d worst severity is not a severity", i)
			}
			r.WorstSeverity = sev.String()
		}
		if r.Model, err = text(fmt.Sprintf("range record %d model", i), r.Model); err != nil {
			return nil, err
		}
		if r.At, err = checkTime(fmt.Sprintf("range record %d At", i), r.At, now); err != nil {
			return nil, err
		}
		r.RunID = runID
		out[i] = r
	}
	return out, nil
}

// AddrKey is how a store keeps an address so that the addresses of a
// prefix are one range of keys: 16 bytes, IPv4 as IPv4-mapped IPv6.
func AddrKey(a netip.Addr) []byte {
	b := a.Unmap().As16() // IPv4 comes back mapped
	return b[:]
}

// AddrFromKey reads what AddrKey wrote.
func AddrFromKey(b []byte) (netip.Addr, error) {
	if len(b) != 16 {
		return netip.Addr{}, fmt.Errorf("stored address key has %d bytes, not 16", len(b))
	}
	return netip.AddrFrom16([16]byte(b)).Unmap(), nil
}

// PrefixKeys returns the first and last AddrKey of the addresses in p;
// for the zero Prefix, of every address.
func PrefixKeys(p netip.Prefix) (lo, hi []byte, err error) {
	if !p.IsValid() {
		if p != (netip.Prefix{}) {
			return nil, nil, invalid("prefix is not a prefix")
		}
		lo = make([]byte, 16)
		hi = bytes.Repeat([]byte{0xff}, 16)
		return lo, hi, nil
	}
	p = p.Masked()
	first := p.Addr()
	lo = AddrKey(first)
	b := first.As16()
	bits := p.Bits()
	if first.Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return lo, b[:], nil
}

// SortSummaries returns the summaries ordered by prefix (address, then
// length).
func SortSummaries(m map[string]*PrefixSummary) []PrefixSummary {
	out := make([]PrefixSummary, 0, len(m))
	for _, ps := range m {
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b PrefixSummary) int { return a.Prefix.Compare(b.Prefix) })
	return out
}
