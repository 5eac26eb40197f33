// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// Files of the state directory.
const (
	stateFile    = "agent.json"
	scheduleFile = "schedule.json"
	outboxDir    = "outbox"
	// maxStateFile bounds agent.json.
	maxStateFile = 64 << 10
)

// Outbox caps: at one DNS audit and a few routers every 15 minutes,
// 10,000 results are weeks of outage; 256 MiB is far more than that many
// reports (a DNS report is about 20 KB). Past either cap the oldest
// results are given up, first, and a dropped record tells the server.
const (
	DefaultMaxResults = 10000
	DefaultMaxBytes   = 256 << 20
)

// outbox is the durable queue of results not yet acknowledged: one file
// per result in the state directory's outbox/, named by its sequence
// number, each written to a temporary file, synced, renamed into place
// and the directory synced, so that a result the agent has taken is on
// the disk before it is sent, and a crash leaves either the whole file
// or none.
//
// The next sequence number is kept in agent.json, written the same way
// after the result's file: a crash in between leaves a file whose number
// is not counted yet, and open counts it (the next number is past every
// file's). Numbers are never reused, so a result and its number stay
// together from the disk to the server.
//
// An outbox is used by one goroutine.
type outbox struct {
	dir     string
	agentID string
	next    uint64
	// entries are the files, oldest first.
	entries []entry
	bytes   int64
	maxN    int
	maxB    int64
	// dropped counts the results given up since open (for the log).
	dropped uint64
}

// entry is one result file.
type entry struct {
	seq, end uint64
	size     int64
	dropped  bool
}

func (e entry) name() string { return fmt.Sprintf("%020d.json", e.seq) }

// agentState is agent.json.
type agentState struct {
	AgentID string `json:"agent_id"`
	NextSeq uint64 `json:"next_seq"`
}

// openOutbox opens (creating) the state directory dir, private to the
// agent's user, and loads the results left in it.
func openOutbox(dir string, maxN int, maxB int64) (*outbox, error) {
	if maxN <= 0 {
		maxN = DefaultMaxResults
	}
	// The newest result and one dropped record before it.
	maxN = max(maxN, 2)
	if maxB <= 0 {
		maxB = DefaultMaxBytes
	}
	o := &outbox{dir: dir, maxN: maxN, maxB: maxB}
	if err := os.MkdirAll(filepath.Join(dir, outboxDir), 0o700); err != nil {
		return nil, fmt.Errorf("agent state directory: %w", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, outboxDir)} {
		if err := private(d); err != nil {
			return nil, err
		}
	}
	st, err := o.readState()
	if err != nil {
		return nil, err
	}
	if st.AgentID == "" {
		id, err := newAgentID()
		if err != nil {
			return nil, err
		}
		st = agentState{AgentID: id, NextSeq: 1}
		if err := o.writeState(st); err != nil {
			return nil, err
		}
	}
	o.agentID, o.next = st.AgentID, max(st.NextSeq, 1)
	if err := o.load(); err != nil {
		return nil, err
	}
	return o, nil
}

// private makes a directory the agent's own (0700): it holds results
// about the site's routers.
func private(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("agent state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("agent state directory %s: not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("agent state directory: %w", err)
		}
	}
	return nil
}

func (o *outbox) readState() (agentState, error) {
	var st agentState
	b, err := inputfile.ReadAll(filepath.Join(o.dir, stateFile), maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("agent state: %w", err)
	}
	if err := strictjson.Decode(bytes.NewReader(b), maxStateFile, &st); err != nil {
		return st, fmt.Errorf("agent state %s: %w (move it away to start as a new agent)", filepath.Join(o.dir, stateFile), err)
	}
	if !agentapi.ValidID(st.AgentID) {
		return st, fmt.Errorf("agent state %s: invalid agent ID (move it away to start as a new agent)", filepath.Join(o.dir, stateFile))
	}
	return st, nil
}

func (o *outbox) writeState(st agentState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeFileSync(o.dir, stateFile, b)
}

// load reads the outbox directory: every result file, oldest first. A
// file that does not decode (the disk failed under it) is set aside and
// stands as a dropped result, so that the numbers stay consecutive; a
// file covered by a dropped range before it (a crash while the range
// was made) is removed.
func (o *outbox) load() error {
	dir := filepath.Join(o.dir, outboxDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("agent outbox: %w", err)
	}
	var seqs []uint64
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(dir, name)) // a write a crash cut short
			continue
		}
		s, ok := strings.CutSuffix(name, ".json")
		if !ok || !de.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil || seq == 0 {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var last uint64
	for _, seq := range seqs {
		e := entry{seq: seq, end: seq}
		path := filepath.Join(dir, e.name())
		if seq <= last {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("agent outbox: %w", err)
			}
			continue
		}
		r, size, err := readResult(path)
		if err == nil && r.Seq != seq {
			err = fmt.Errorf("holds result %d", r.Seq)
		}
		if err != nil {
			// Set aside, never silently deleted: someone may want to
			// look at it.
			aside := filepath.Join(o.dir, fmt.Sprintf("corrupt-%020d.json", seq))
			if rerr := os.Rename(path, aside); rerr != nil {
				return fmt.Errorf("agent outbox: %s does not decode (%v) and cannot be set aside: %w", path, err, rerr)
			}
			now := time.Now().UTC()
			d := agentapi.Result{Seq: seq, Kind: agentapi.KindDropped, LastSeq: seq, StartedAt: now, FinishedAt: now}
			if e, err = o.write(&d); err != nil {
				return err
			}
			o.dropped++
		} else {
			e.end, e.size, e.dropped = r.End(), size, r.Kind == agentapi.KindDropped
		}
		o.entries = append(o.entries, e)
		o.bytes += e.size
		last = e.end
	}
	if last >= o.next {
		o.next = last + 1
		return o.writeState(agentState{AgentID: o.agentID, NextSeq: o.next})
	}
	return nil
}

func readResult(path string) (*agentapi.Result, int64, error) {
	b, err := inputfile.ReadAll(path, agentapi.MaxResultBytes)
	if err != nil {
		return nil, 0, err
	}
	r, err := agentapi.DecodeResult(bytes.NewReader(b))
	return r, int64(len(b)), err
}

// write writes r's file (r.Seq names it) durably and returns its entry.
func (o *outbox) write(r *agentapi.Result) (entry, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return entry{}, err
	}
	e := entry{seq: r.Seq, end: r.End(), size: int64(len(b)), dropped: r.Kind == agentapi.KindDropped}
	if err := writeFileSync(filepath.Join(o.dir, outboxDir), e.name(), b); err != nil {
		return entry{}, err
	}
	return e, nil
}

// NewID gives the agent a new ID, keeping its numbering and its queued
// results.
func (o *outbox) NewID() error {
	id, err := newAgentID()
	if err != nil {
		return err
	}
	if err := o.writeState(agentState{AgentID: id, NextSeq: o.next}); err != nil {
		return fmt.Errorf("agent state: %w", err)
	}
	o.agentID = id
	return nil
}

func newAgentID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("agent ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Len is how many results wait (a dropped range counts once).
func (o *outbox) Len() int { return len(o.entries) }

// Add gives r the next sequence number and writes it; it returns the
// number. Past a cap, the oldest results are given up first (see evict).
// r must be a valid result once numbered and at most MaxResultBytes
// encoded.
func (o *outbox) Add(r agentapi.Result) (uint64, error) {
	r.Seq = o.next
	if err := r.Validate(); err != nil {
		return 0, fmt.Errorf("agent: refusing to queue an invalid result: %w", err)
	}
	e, err := o.write(&r)
	if err != nil {
		return 0, fmt.Errorf("agent outbox: %w", err)
	}
	o.next++
	if err := o.writeState(agentState{AgentID: o.agentID, NextSeq: o.next}); err != nil {
		return 0, fmt.Errorf("agent outbox: %w", err)
	}
	o.entries = append(o.entries, e)
	o.bytes += e.size
	return r.Seq, o.evict()
}

// evict gives up the oldest results while the outbox is over a cap,
// folding them into one dropped record at the head (named by the first
// given-up number). The record is written before the files it stands for
// are removed; a crash in between leaves files that load removes.
func (o *outbox) evict() error {
	if len(o.entries) <= o.maxN && o.bytes <= o.maxB {
		return nil
	}
	// The newest result always stays. The dropped record takes about
	// droppedSize bytes of the room freed.
	const droppedSize = 200
	n := 0
	bytes := o.bytes
	for n < len(o.entries)-1 && (len(o.entries)-n+1 > o.maxN || bytes+droppedSize > o.maxB) {
		bytes -= o.entries[n].size
		n++
	}
	if n <= 1 && (n == 0 || o.entries[0].dropped) {
		return nil
	}
	first, last := o.entries[0], o.entries[n-1]
	var start, finish time.Time
	if r, _, err := readResult(filepath.Join(o.dir, outboxDir, first.name())); err == nil {
		start = r.StartedAt
	}
	if r, _, err := readResult(filepath.Join(o.dir, outboxDir, last.name())); err == nil {
		finish = r.FinishedAt
	}
	if start.IsZero() {
		start = time.Now().UTC()
	}
	if finish.IsZero() {
		finish = start
	}
	d := agentapi.Result{Seq: first.seq, Kind: agentapi.KindDropped, LastSeq: last.end, StartedAt: start, FinishedAt: finish}
	e, err := o.write(&d)
	if err != nil {
		return fmt.Errorf("agent outbox: %w", err)
	}
	for _, old := range o.entries[1:n] {
		if err := os.Remove(filepath.Join(o.dir, outboxDir, old.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("agent outbox: %w", err)
		}
		if !old.dropped {
			o.dropped++
		}
	}
	if !first.dropped {
		o.dropped++
	}
	o.entries = append([]entry{e}, o.entries[n:]...)
	o.bytes = bytes + e.size
	if o.bytes > o.maxB && len(o.entries) > 2 {
		return o.evict() // the record was larger than reckoned
	}
	return nil
}

// Peek reads the oldest results, at most n of them and about maxBytes
// (always at least one).
func (o *outbox) Peek(n int, maxBytes int64) ([]agentapi.Result, error) {
	var out []agentapi.Result
	var total int64
	for _, e := range o.entries {
		if len(out) >= n || len(out) > 0 && total+e.size > maxBytes {
			break
		}
		r, _, err := readResult(filepath.Join(o.dir, outboxDir, e.name()))
		if err != nil {
			return out, fmt.Errorf("agent outbox: result %d: %w", e.seq, err)
		}
		out = append(out, *r)
		total += e.size
	}
	return out, nil
}

// Ack forgets every result up to seq (the server has them).
func (o *outbox) Ack(seq uint64) error {
	n := 0
	for n < len(o.entries) && o.entries[n].end <= seq {
		n++
	}
	for _, e := range o.entries[:n] {
		if err := os.Remove(filepath.Join(o.dir, outboxDir, e.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("agent outbox: %w", err)
		}
		o.bytes -= e.size
	}
	o.entries = o.entries[n:]
	return nil
}

// Lost records that the server no longer has results from..to, which it
// had acknowledged (its database was restored from an older copy): a
// dropped record for them goes first, so that the numbers it gets stay
// consecutive.
func (o *outbox) Lost(from, to uint64) error {
	if from == 0 || to < from || len(o.entries) > 0 && to >= o.entries[0].seq {
		return fmt.Errorf("agent outbox: cannot mark results %d to %d lost", from, to)
	}
	now := time.Now().UTC()
	d := agentapi.Result{Seq: from, Kind: agentapi.KindDropped, LastSeq: to, StartedAt: now, FinishedAt: now}
	e, err := o.write(&d)
	if err != nil {
		return err
	}
	o.entries = append([]entry{e}, o.entries...)
	o.bytes += e.size
	return nil
}

// writeFileSync writes name in dir durably: a temporary file in dir,
// synced, renamed over name, and dir synced, mode 0600.
func writeFileSync(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a
// directory (its renames are durable once MoveFileEx returns).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
