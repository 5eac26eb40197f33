// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// records are two targets in documentation space: an exposed legacy
// TP-Link and a device that did not answer.
func records() []Record {
	tp := Record{SchemaVersion: SchemaVersion, Target: "198.51.100.7", Status: StatusAnswered, Vantage: "wan",
		StartedAt: t0, ElapsedSeconds: 3.141, Headline: "Device 198.51.100.7 (TP-Link TL-WR841N V10) is end of life and exploited in the wild: replace it.",
		Identity:      Identity{Identified: true, Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10", Confidence: "high"},
		Vulnerability: Vulnerability{Verdict: "affected", Severity: "high", Exploited: true, EndOfLife: true, CVEs: []string{"CVE-2023-50224", "CVE-2023-33538"}},
		Services: []Service{{Kind: "web", Proto: "tcp", Port: 80, Confirmed: true, Facts: []string{"http HTTP 401", "realm: TP-LINK Wireless N Router WR841N"}},
			{Kind: "telnet", Proto: "tcp", Port: 23, Confirmed: true}},
		Summary: Counts{Pass: 9, Fail: 3, Unknown: 1}, WorstSeverity: "critical",
		Findings: []finding.Finding{
			{ID: "exposure.remote_management@198.51.100.7/telnet", CheckID: "exposure.remote_management", Subject: "device 198.51.100.7, telnet (tcp/23)",
				Status: finding.StatusFail, Severity: finding.SeverityCritical, Confidence: finding.ConfidenceHigh, Title: "Telnet answers from the Internet", ObservedAt: t0},
			{ID: "exposure.remote_management@198.51.100.7/web", CheckID: "exposure.remote_management", Subject: "device 198.51.100.7, web admin page (tcp/80)",
				Status: finding.StatusFail, Severity: finding.SeverityHigh, Confidence: finding.ConfidenceHigh, Title: "Web admin page answers from the Internet", ObservedAt: t0},
			{ID: "firmware.known_vulnerable@198.51.100.7/CVE-2023-50224", CheckID: "firmware.known_vulnerable", Subject: "device 198.51.100.7",
				Status: finding.StatusFail, Severity: finding.SeverityHigh, Confidence: finding.ConfidenceHigh, Title: "Affected by CVE-2023-50224 (exploited in the wild)", ObservedAt: t0},
			{ID: "firmware.end_of_life@198.51.100.7", CheckID: "firmware.end_of_life", Subject: "device 198.51.100.7",
				Status: finding.StatusUnknown, Severity: finding.SeverityInfo, Confidence: finding.ConfidenceHigh, Title: "Could not tell whether the router is end of life", ObservedAt: t0},
		}}
	silent := Record{SchemaVersion: SchemaVersion, Target: "198.51.100.8", Status: StatusSilent, Vantage: "wan", StartedAt: t0, ElapsedSeconds: 15,
		DeadlineHit: true, Headline: "Device 198.51.100.8 did not answer on any port: nothing could be checked.",
		Identity: Identity{Confidence: "low"}, Vulnerability: Vulnerability{Verdict: "unidentified", CVEs: []string{}},
		Services: []Service{}, Summary: Counts{Unknown: 2}, Findings: []finding.Finding{
			{ID: "exposure.device_reachable@198.51.100.8", CheckID: "exposure.device_reachable", Subject: "device 198.51.100.8",
				Status: finding.StatusUnknown, Severity: finding.SeverityInfo, Confidence: finding.ConfidenceHigh, Title: "Device answered on no port", ObservedAt: t0},
			{ID: "firmware.identity_unknown@198.51.100.8", CheckID: "firmware.identity_unknown", Subject: "device 198.51.100.8",
				Status: finding.StatusUnknown, Severity: finding.SeverityMedium, Confidence: finding.ConfidenceHigh, Title: "Could not identify the router's model", ObservedAt: t0},
		},
		ProbeErrors: []audit.ProbeError{{Probe: "http", Status: netx.StatusTimeout, Error: "http probe: timeout: i/o timeout"}}}
	return []Record{tp, silent}
}

func TestGolden(t *testing.T) {
	for _, f := range []Format{FormatJSONL, FormatCSV, FormatText} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			w, err := NewWriter(&b, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records() {
				if err := w.Write(&r); err != nil {
					t.Fatal(err)
				}
			}
			testutil.Golden(t, "records."+string(f)+".golden", b.Bytes())
		})
	}
	t.Run("summary", func(t *testing.T) {
		var s Summary
		rs := records()
		s.Add(&rs[0], false)
		s.Add(&rs[1], true)
		var b bytes.Buffer
		if err := s.Write(&b, 18*time.Second+140*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, "summary.golden", b.Bytes())
	})
}

// TestWriterStreams checks each record is on the output when Write
// returns: a reader of the pipe sees the target at once.
func TestWriterStreams(t *testing.T) {
	for _, f := range []Format{FormatJSONL, FormatCSV, FormatText} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			w, _ := NewWriter(&b, f)
			r := records()[0]
			before := b.Len()
			if err := w.Write(&r); err != nil {
				t.Fatal(err)
			}
			if b.Len() == before || !strings.Contains(b.String(), "198.51.100.7") {
				t.Errorf("%s: the record is not written through at once", f)
			}
		})
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	rs := records()
	b, err := MarshalLine(&rs[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("not one line: %q", b)
	}
	var got Record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs[0], got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestCSVSafe(t *testing.T) {
	r := records()[0]
	r.Identity.Model = "=HYPERLINK(\"http://example.net\")"
	var b bytes.Buffer
	w, _ := NewCSV(&b)
	w.Write(&r)
	if strings.Contains(b.String(), ",=HYPERLINK") || !strings.Contains(b.String(), "'=HYPERLINK") {
		t.Errorf("formula not neutralized:\n%s", b.String())
	}
}

const testScan = "0123456789abcdef0123456789abcdef"

// resumeHeader is the first line a resume file of testScan starts with.
func resumeHeader(scan string) string {
	return `{"routerwatch_resume":1,"scan":"` + scan + `"}` + "\n"
}

func TestResume(t *testing.T) {
	rs := records()
	line0, _ := MarshalLine(&rs[0])
	hdr := resumeHeader(testScan)
	tests := []struct {
		name     string
		content  string
		wantDone []string
		dropped  int
	}{
		{name: "missing_file", content: "\x00none"},
		{name: "empty", content: ""},
		{name: "header_only", content: hdr},
		{name: "one_record", content: hdr + string(line0), wantDone: []string{"198.51.100.7"}},
		{name: "partial_last_line", content: hdr + string(line0) + `{"schema_version":1,"target":"198.51`, wantDone: []string{"198.51.100.7"}, dropped: 1},
		{name: "garbage_line", content: hdr + "not json\n" + string(line0) + "\n", wantDone: []string{"198.51.100.7"}, dropped: 1},
		{name: "over_long_line", content: hdr + strings.Repeat("x", maxResumeLine+10) + "\n" + string(line0), wantDone: []string{"198.51.100.7"}, dropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resume.jsonl")
			if tt.content != "\x00none" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var seen []string
			r, err := OpenResume(path, testScan, func(rec *Record) { seen = append(seen, rec.Target) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDone, seen); diff != "" {
				t.Errorf("records read (-want +got):\n%s", diff)
			}
			if r.Dropped != tt.dropped {
				t.Errorf("dropped %d, want %d", r.Dropped, tt.dropped)
			}
			// Appending after a crash starts on a fresh line, and the
			// file reads back whole.
			if err := r.Append(&rs[1]); err != nil {
				t.Fatal(err)
			}
			r.Close()
			var again []string
			r2, err := OpenResume(path, testScan, func(rec *Record) { again = append(again, rec.Target) })
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			if diff := cmp.Diff(append(tt.wantDone, "198.51.100.8"), again); diff != "" {
				t.Errorf("after append (-want +got):\n%s", diff)
			}
			if !r2.Done("198.51.100.8") || r2.Len() != len(tt.wantDone)+1 {
				t.Errorf("Done/Len wrong: %d", r2.Len())
			}
			if tt.name == "partial_last_line" && r2.Dropped != 0 {
				t.Errorf("the partial line survived: dropped %d on reopen", r2.Dropped)
			}
			if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), hdr) {
				t.Errorf("the file does not start with its header: %.80q", b)
			}
		})
	}
}

// TestResumeRefusesOtherFiles: a file that is not a resume file of this
// scan is refused and left byte for byte as it was (the old code cut the
// last line of a target list and appended records to it).
func TestResumeRefusesOtherFiles(t *testing.T) {
	rs := records()
	line0, _ := MarshalLine(&rs[0])
	for _, tc := range []struct {
		name, content string
	}{
		{"target_list", "192.0.2.1\n192.0.2.0/28\n198.51.100.7"},
		{"records_without_header", string(line0)},
		{"other_scan", resumeHeader("ffffffffffffffffffffffffffffffff") + string(line0)},
		{"newer_format", `{"routerwatch_resume":9,"scan":"` + testScan + `"}` + "\n"},
		{"header_without_newline", strings.TrimSuffix(resumeHeader(testScan), "\n")},
		{"binary", "\x00\x01\x02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := OpenResume(path, testScan, nil)
			if err == nil {
				r.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrNotResumeFile) {
				t.Errorf("error %v, want ErrNotResumeFile", err)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Errorf("file changed:\n%q\nwant\n%q", b, tc.content)
			}
		})
	}
	t.Run("fifo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skip(err)
		}
		done := make(chan error, 1)
		go func() {
			r, err := OpenResume(path, testScan, nil)
			if err == nil {
				r.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("FIFO: %v, want refused as not a regular file", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OpenResume blocked on a FIFO")
		}
	})
}

func TestScanID(t *testing.T) {
	a := target.NewSet(target.Range{First: netip.MustParseAddr("192.0.2.1"), Last: netip.MustParseAddr("192.0.2.9")})
	b := target.NewSet(target.Range{First: netip.MustParseAddr("192.0.2.1"), Last: netip.MustParseAddr("192.0.2.8")})
	ports := []string{"tcp/22", "udp/161"}
	base := ScanID(a, ports, "lan")
	for _, tc := range []struct {
		name string
		id   string
		same bool
	}{
		{"same_scan", ScanID(a, slices.Clone(ports), "lan"), true},
		{"other_targets", ScanID(b, ports, "lan"), false},
		{"other_ports", ScanID(a, []string{"tcp/22"}, "lan"), false},
		{"other_vantage", ScanID(a, ports, "wan"), false},
	} {
		if (tc.id == base) != tc.same {
			t.Errorf("%s: ID %s vs %s, same=%v", tc.name, tc.id, base, tc.same)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := t0
	p := NewProgress(&b, 4, func() time.Time { return now })
	for range 4 {
		now = now.Add(time.Second)
		p.Done()
	}
	p.Clear()
	out := b.String()
	for _, want := range []string{"1/4 targets", "4/4 targets", "1.0/s", "\r\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q: %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("not cleared at the end: %q", out)
	}
}

// TestProgressSweep: during a sweep the bar shows both stages.
func TestProgressSweep(t *testing.T) {
	var b bytes.Buffer
	now := t0
	p := NewProgress(&b, 512, func() time.Time { return now })
	now = now.Add(2 * time.Second)
	p.Sweep(SweepCounts{Mode: SweepSYN, Total: 512, Swept: 256, Live: 3, Audited: 1})
	// Records written since (two) count as audited until the engine's
	// next counts.
	for range 2 {
		now = now.Add(time.Second)
		p.Done()
	}
	p.Clear()
	out := b.String()
	for _, want := range []string{"swept 256/512 · live 3 · audited 1/3 · 128 addresses/s", "audited 2/3"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q: %q", want, out)
		}
	}
}

// TestResumePrefixes: a sweep's prefix lines read back as done prefixes,
// not as dropped lines, and an appended one is there for the next run.
func TestResumePrefixes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resume.jsonl")
	rs := records()
	line, _ := MarshalLine(&rs[0])
	pfx := `{"schema_version":1,"type":"prefix","prefix":"198.51.100.0/24","first":"198.51.100.0","last":"198.51.100.255","swept":256,"live":1,"closed":2,"identified":1,"failing":1}` + "\n"
	if err := os.WriteFile(path, []byte(resumeHeader(testScan)+string(line)+pfx), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenResume(path, testScan, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := r.Prefix("198.51.100.0/24")
	if !ok || ps.Swept != 256 || ps.Closed != 2 || r.Dropped != 0 || r.Len() != 1 {
		t.Fatalf("prefix %+v %v, dropped %d, records %d", ps, ok, r.Dropped, r.Len())
	}
	next := PrefixSummary{SchemaVersion: 1, Type: prefixType, Prefix: "203.0.113.0/24", First: "203.0.113.0", Last: "203.0.113.9", Swept: 10}
	if err := r.AppendPrefix(&next); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r, err = OpenResume(path, testScan, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, ok := r.Prefix("203.0.113.0/24"); !ok || got != next {
		t.Errorf("appended prefix read back as %+v %v", got, ok)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"jsonl", "csv", "text"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("json"); err == nil {
		t.Error("ParseFormat(json) accepted")
	}
}

// FuzzOpenResume feeds arbitrary resume files: never a panic, and what
// is appended after them always reads back as a record.
func FuzzOpenResume(f *testing.F) {
	rs := records()
	line, _ := MarshalLine(&rs[0])
	hdr := []byte(resumeHeader(testScan))
	f.Add(append(append([]byte{}, hdr...), line...))
	f.Add(append(append(append([]byte{}, hdr...), line...), `{"schema_version":1,"target":"198.5`...))
	f.Add(append(append([]byte{}, hdr...), "\n\n{}\nnot json\n"...))
	f.Add(append(append([]byte{}, hdr...), `{"schema_version":1,"type":"prefix","prefix":"192.0.2.0/24","swept":1}`+"\n"...))
	f.Add(line)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "resume.jsonl")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenResume(path, testScan, nil)
		if errors.Is(err, ErrNotResumeFile) {
			// Refused: it must be untouched.
			if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
				t.Fatalf("refused file changed: %q → %q", b, after)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Append(&rs[1]); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r2, err := OpenResume(path, testScan, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		if !r2.Done(rs[1].Target) {
			t.Errorf("the appended record does not read back after %q", b)
		}
	})
}

// TestTextEscapesDeviceStrings: a model name a device chose reaches the
// terminal escaped (an ESC sequence could rewrite the screen).
func TestTextEscapesDeviceStrings(t *testing.T) {
	r := records()[0]
	r.Headline = "Device 198.51.100.7 (\x1b]0;owned\x07TL-WR841N) is affected"
	var b bytes.Buffer
	w, _ := NewWriter(&b, FormatText)
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07") || !strings.Contains(b.String(), `\x1b]0;owned\a`) && !strings.Contains(b.String(), `\x1b]0;owned\x07`) {
		t.Errorf("text output not escaped: %q", b.String())
	}
}
