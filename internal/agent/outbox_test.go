// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func result(i int) agentapi.Result {
	at := t0.Add(time.Duration(i) * time.Minute)
	return agentapi.Result{Kind: agentapi.KindDNS, StartedAt: at, FinishedAt: at, Verdict: "clean",
		Report: json.RawMessage(`{"n":` + strings.Repeat("1", 1+i%5) + `}`)}
}

func seqs(t *testing.T, o *outbox) []uint64 {
	t.Helper()
	rs, err := o.Peek(1<<20, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
		if r.Kind == agentapi.KindDropped {
			out = append(out, r.LastSeq)
		}
	}
	return out
}

func same(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOutboxDurable: results keep their numbers across a reopen (a
// restart), acked ones are gone, and the numbering goes on where it was
// even when nothing is left; the files are the agent's alone.
func TestOutboxDurable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	o, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	id := o.agentID
	for i := range 5 {
		if seq, err := o.Add(result(i)); err != nil || seq != uint64(i+1) {
			t.Fatalf("Add %d: seq %d, %v", i, seq, err)
		}
	}
	if err := o.Ack(2); err != nil {
		t.Fatal(err)
	}
	o2, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o2.agentID != id || !same(seqs(t, o2), []uint64{3, 4, 5}) || o2.next != 6 {
		t.Fatalf("after reopen: agent %s (was %s), queued %v, next %d", o2.agentID, id, seqs(t, o2), o2.next)
	}
	if err := o2.Ack(5); err != nil {
		t.Fatal(err)
	}
	o3, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o3.Len() != 0 || o3.next != 6 {
		t.Fatalf("all acked, reopened: %d queued, next %d; want 0 and 6 (numbers are never reused)", o3.Len(), o3.next)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{dir, filepath.Join(dir, outboxDir)} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v %v, want 0700", p, fi.Mode(), err)
			}
		}
		o3.Add(result(9))
		ents, _ := os.ReadDir(filepath.Join(dir, outboxDir))
		for _, e := range ents {
			fi, _ := e.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", e.Name(), fi.Mode())
			}
		}
		if fi, _ := os.Stat(filepath.Join(dir, stateFile)); fi.Mode().Perm() != 0o600 {
			t.Errorf("agent.json mode %v", fi.Mode())
		}
	}
}

// TestOutboxCrashes: what a crash can leave is read back consistently: a
// result file whose number agent.json does not count yet, a temporary
// file, a file that does not decode, files a dropped range covers.
func TestOutboxCrashes(t *testing.T) {
	dir := t.TempDir()
	o, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		o.Add(result(i))
	}
	box := filepath.Join(dir, outboxDir)
	// A crash after the result's file, before agent.json: seq 4 on disk,
	// agent.json still says 4 is next.
	r := result(3)
	r.Seq = 4
	if _, err := o.write(&r); err != nil {
		t.Fatal(err)
	}
	// A write cut short.
	os.WriteFile(filepath.Join(box, ".tmp-123"), []byte(`{"seq":`), 0o600)
	// A file the disk mangled.
	os.WriteFile(filepath.Join(box, entry{seq: 2}.name()), []byte(`{"seq":2,"kind":"dn`), 0o600)
	o2, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, o2); !same(got, []uint64{1, 2, 2, 3, 4}) || o2.next != 5 {
		t.Fatalf("after the crash: %v next %d; want 1, dropped 2-2, 3, 4 and next 5", got, o2.next)
	}
	if _, err := os.Stat(filepath.Join(box, ".tmp-123")); !os.IsNotExist(err) {
		t.Error("the temporary file is still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "corrupt-00000000000000000002.json")); err != nil {
		t.Errorf("the mangled file was not set aside: %v", err)
	}
	// A crash while folding 3 and 4 into a dropped range: the range is
	// written, the files it covers are not removed yet.
	d := agentapi.Result{Seq: 3, Kind: agentapi.KindDropped, LastSeq: 4, StartedAt: t0, FinishedAt: t0}
	if _, err := o2.write(&d); err != nil {
		t.Fatal(err)
	}
	o3, err := openOutbox(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, o3); !same(got, []uint64{1, 2, 2, 3, 4}) {
		t.Fatalf("after a cut fold: %v", got)
	}
	if _, err := os.Stat(filepath.Join(box, entry{seq: 4}.name())); !os.IsNotExist(err) {
		t.Error("the covered file is still there")
	}
}

// TestOutboxEviction: past a cap the oldest results are folded into one
// dropped range at the head; the numbers stay consecutive and the newest
// result always stays.
func TestOutboxEviction(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		o, err := openOutbox(t.TempDir(), 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := o.Add(result(i)); err != nil {
				t.Fatal(err)
			}
			if o.Len() > 4 {
				t.Fatalf("after %d results: %d queued, cap 4", i+1, o.Len())
			}
		}
		if got := seqs(t, o); !same(got, []uint64{1, 7, 8, 9, 10}) || o.dropped != 7 {
			t.Fatalf("queued %v (dropped %d); want dropped 1-7, then 8, 9, 10", got, o.dropped)
		}
		rs, _ := o.Peek(100, 1<<30)
		if rs[0].StartedAt != t0 || !rs[0].FinishedAt.Equal(t0.Add(6*time.Minute)) {
			t.Errorf("the dropped range's times %v - %v, want the first and last results'", rs[0].StartedAt, rs[0].FinishedAt)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		o, err := openOutbox(t.TempDir(), 0, 1200)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := o.Add(result(i)); err != nil {
				t.Fatal(err)
			}
			if o.bytes > 1200 {
				t.Fatalf("after %d results: %d bytes, cap 1200", i+1, o.bytes)
			}
		}
		got := seqs(t, o)
		if got[0] != 1 || got[len(got)-1] != 20 {
			t.Fatalf("queued %v", got)
		}
		for i := 2; i+1 < len(got); i++ {
			if got[i+1] != got[i]+1 {
				t.Fatalf("numbers not consecutive: %v", got)
			}
		}
	})
}

// TestOutboxLost: a range the server lost goes first.
func TestOutboxLost(t *testing.T) {
	o, err := openOutbox(t.TempDir(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		o.Add(result(i))
	}
	o.Ack(4)
	if err := o.Lost(2, 4); err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, o); !same(got, []uint64{2, 4, 5, 6}) {
		t.Fatalf("%v", got)
	}
	if err := o.Lost(1, 5); err == nil {
		t.Error("a lost range over a queued result was accepted")
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		after    time.Duration
		dice     float64
		min, max time.Duration
	}{
		{"first_low", 1, 0, 0, time.Second, time.Second},
		{"first_high", 1, 0, 0.999, time.Second, 2 * time.Second},
		{"doubles", 3, 0, 0, 4 * time.Second, 4 * time.Second},
		{"capped", 12, 0, 0.999, 150 * time.Second, 300 * time.Second},
		{"capped_huge_n", 500, 0, 0.5, 150 * time.Second, 300 * time.Second},
		{"retry_after", 1, 90 * time.Second, 0, 90 * time.Second, 90 * time.Second},
		{"retry_after_past_cap", 1, time.Hour, 0, time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{o: Options{MinRetry: 2 * time.Second, MaxRetry: 5 * time.Minute, Rand: func() float64 { return tc.dice }}}
			if d := a.backoff(tc.n, tc.after); d < tc.min || d > tc.max {
				t.Errorf("backoff(%d, %v) = %v, want %v to %v", tc.n, tc.after, d, tc.min, tc.max)
			}
		})
	}
}
