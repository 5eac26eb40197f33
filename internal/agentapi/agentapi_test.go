// SPDX-License-Identifier: Apache-2.0

package agentapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/strictjson"
)

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dnsResult(seq uint64) agentapi.Result {
	return agentapi.Result{Seq: seq, Kind: agentapi.KindDNS, StartedAt: t0, FinishedAt: t0.Add(time.Second),
		Verdict: "clean", Headline: "No DNS hijack found.", Report: json.RawMessage(`{"schema_version":1}`)}
}

func schedule() agentapi.Schedule {
	return agentapi.Schedule{Version: agentapi.Version, Site: "office-1", SiteName: "Office",
		Tasks:   []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 300}, {Kind: agentapi.KindConfigPull, IntervalSeconds: 900}},
		Routers: []agentapi.Router{{ID: "gw", Address: netip.MustParseAddr("192.0.2.1"), Adapter: "tplink-legacy"}}}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*agentapi.Schedule)
		ok   bool
	}{
		{"valid", func(*agentapi.Schedule) {}, true},
		{"no_tasks", func(s *agentapi.Schedule) { s.Tasks = nil }, true},
		{"wrong_version", func(s *agentapi.Schedule) { s.Version = 2 }, false},
		{"site_with_slash", func(s *agentapi.Schedule) { s.Site = "a/b" }, true},
		{"bad_site", func(s *agentapi.Schedule) { s.Site = "a\nb" }, false},
		{"empty_site", func(s *agentapi.Schedule) { s.Site = "" }, false},
		{"long_site", func(s *agentapi.Schedule) { s.Site = strings.Repeat("s", agentapi.MaxSiteIDLen+1) }, false},
		{"router_id_control", func(s *agentapi.Schedule) { s.Routers[0].ID = "gw\x00" }, false},
		{"unknown_kind", func(s *agentapi.Schedule) { s.Tasks[0].Kind = "scan" }, false},
		{"dropped_is_no_task", func(s *agentapi.Schedule) { s.Tasks[0].Kind = agentapi.KindDropped }, false},
		{"kind_twice", func(s *agentapi.Schedule) { s.Tasks[1].Kind = agentapi.KindDNS }, false},
		{"interval_too_short", func(s *agentapi.Schedule) { s.Tasks[0].IntervalSeconds = 1 }, false},
		{"interval_zero", func(s *agentapi.Schedule) { s.Tasks[0].IntervalSeconds = 0 }, false},
		{"interval_too_long", func(s *agentapi.Schedule) { s.Tasks[0].IntervalSeconds = 8 * 24 * 3600 }, false},
		{"interval_overflow", func(s *agentapi.Schedule) { s.Tasks[0].IntervalSeconds = 1 << 62 }, false},
		{"router_no_address", func(s *agentapi.Schedule) { s.Routers[0].Address = netip.Addr{} }, false},
		{"router_zone", func(s *agentapi.Schedule) { s.Routers[0].Address = netip.MustParseAddr("fe80::1%eth0") }, false},
		{"router_id_twice", func(s *agentapi.Schedule) { s.Routers = append(s.Routers, s.Routers[0]) }, false},
		{"router_bad_adapter", func(s *agentapi.Schedule) { s.Routers[0].Adapter = "../x" }, false},
		{"negative_refresh", func(s *agentapi.Schedule) { s.RefreshSeconds = -1 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := schedule()
			tc.edit(&s)
			err := s.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, agentapi.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestResultValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    func() agentapi.Result
		ok   bool
	}{
		{"dns", func() agentapi.Result { return dnsResult(1) }, true},
		{"seq_zero", func() agentapi.Result { return dnsResult(0) }, false},
		{"unknown_kind", func() agentapi.Result { r := dnsResult(1); r.Kind = "scan"; return r }, false},
		{"no_times", func() agentapi.Result { r := dnsResult(1); r.StartedAt = time.Time{}; return r }, false},
		{"dns_unknown_verdict", func() agentapi.Result { r := dnsResult(1); r.Verdict = "fine"; return r }, false},
		{"dns_no_report", func() agentapi.Result { r := dnsResult(1); r.Report = nil; return r }, false},
		{"report_not_object", func() agentapi.Result { r := dnsResult(1); r.Report = json.RawMessage(`[1]`); return r }, false},
		{"report_not_json", func() agentapi.Result { r := dnsResult(1); r.Report = json.RawMessage(`{`); return r }, false},
		{"dns_error", func() agentapi.Result {
			r := dnsResult(1)
			r.Verdict, r.Report, r.Error = "", nil, agentapi.NewError(agentapi.ErrorNoResolver, "no resolver")
			return r
		}, true},
		{"error_with_report", func() agentapi.Result {
			r := dnsResult(1)
			r.Error = agentapi.NewError(agentapi.ErrorOther, "x")
			return r
		}, false},
		{"error_unknown_class", func() agentapi.Result {
			r := dnsResult(1)
			r.Report, r.Error = nil, &agentapi.Error{Class: "weird", Message: "x"}
			return r
		}, false},
		{"config_pull", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindConfigPull, Router: "gw", StartedAt: t0, FinishedAt: t0, Snapshot: json.RawMessage(`{"adapter":"x"}`)}
		}, true},
		{"config_pull_no_router", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindConfigPull, StartedAt: t0, FinishedAt: t0, Snapshot: json.RawMessage(`{}`)}
		}, false},
		{"config_pull_no_snapshot", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindConfigPull, Router: "gw", StartedAt: t0, FinishedAt: t0}
		}, false},
		{"check_gateway", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindCheck, StartedAt: t0, FinishedAt: t0, Verdict: "fail", Report: json.RawMessage(`{}`)}
		}, true},
		{"dropped", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindDropped, LastSeq: 9, StartedAt: t0, FinishedAt: t0}
		}, true},
		{"dropped_backwards", func() agentapi.Result {
			return agentapi.Result{Seq: 3, Kind: agentapi.KindDropped, LastSeq: 2, StartedAt: t0, FinishedAt: t0}
		}, false},
		{"last_seq_on_dns", func() agentapi.Result { r := dnsResult(1); r.LastSeq = 4; return r }, false},
		{"invalid_utf8_headline", func() agentapi.Result { r := dnsResult(1); r.Headline = "\xff"; return r }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			if err := r.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestBatchValidate(t *testing.T) {
	dropped := agentapi.Result{Seq: 2, Kind: agentapi.KindDropped, LastSeq: 5, StartedAt: t0, FinishedAt: t0}
	for _, tc := range []struct {
		name string
		b    agentapi.Batch
		ok   bool
	}{
		{"consecutive", agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1), dnsResult(2)}}, true},
		{"after_dropped", agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1), dropped, dnsResult(6)}}, true},
		{"gap_inside", agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1), dnsResult(3)}}, false},
		{"out_of_order", agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(2), dnsResult(1)}}, false},
		{"dropped_overlap", agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1), dropped, dnsResult(5)}}, false},
		{"empty", agentapi.Batch{Version: 1, AgentID: "a1"}, false},
		{"bad_agent", agentapi.Batch{Version: 1, AgentID: "", Results: []agentapi.Result{dnsResult(1)}}, false},
		{"wrong_version", agentapi.Batch{Version: 0, AgentID: "a1", Results: []agentapi.Result{dnsResult(1)}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.b.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	var many agentapi.Batch
	many.Version, many.AgentID = 1, "a1"
	for i := range agentapi.MaxBatchResults + 1 {
		many.Results = append(many.Results, dnsResult(uint64(i+1)))
	}
	if err := many.Validate(); err == nil {
		t.Error("a batch over MaxBatchResults was accepted")
	}
}

// TestDecodeStrict: what a side does not know is refused, not skipped;
// a body over the limit is refused without reading it all.
func TestDecodeStrict(t *testing.T) {
	b := agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1)}}
	good, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := agentapi.DecodeBatch(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&b, got, addrEqual); d != "" {
		t.Errorf("round trip (-sent +read):\n%s", d)
	}
	for _, tc := range []struct {
		name, body string
	}{
		{"unknown_field", strings.Replace(string(good), `"agent_id"`, `"agnet_id":"x","agent_id"`, 1)},
		{"trailing", string(good) + "{}"},
		{"empty", ""},
		{"unknown_result_field", strings.Replace(string(good), `"seq"`, `"priority":1,"seq"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := agentapi.DecodeBatch(strings.NewReader(tc.body)); !errors.Is(err, agentapi.ErrInvalid) {
				t.Errorf("DecodeBatch: %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("too_large", func(t *testing.T) {
		huge := bigString(agentapi.MaxBatchBytes + 10)
		_, err := agentapi.DecodeBatch(huge)
		if !errors.Is(err, strictjson.ErrTooLarge) || !errors.Is(err, agentapi.ErrInvalid) {
			t.Errorf("DecodeBatch of %d bytes: %v, want ErrTooLarge", agentapi.MaxBatchBytes+10, err)
		}
	})
	s := schedule()
	sb, _ := json.Marshal(s)
	gs, err := agentapi.DecodeSchedule(bytes.NewReader(sb))
	if err != nil || !cmp.Equal(&s, gs, addrEqual) {
		t.Errorf("schedule round trip: %v %+v", err, gs)
	}
	if _, err := agentapi.DecodeAck(strings.NewReader(`{"version":1,"acked_seq":3,"extra":1}`)); err == nil {
		t.Error("an answer with an unknown field was accepted")
	}
	if a, err := agentapi.DecodeAck(strings.NewReader(`{"version":1,"acked_seq":3,"expected_seq":4}`)); err != nil || a.AckedSeq != 3 || a.ExpectedSeq != 4 {
		t.Errorf("DecodeAck: %+v %v", a, err)
	}
}

// bigString is a reader of n bytes of a JSON string that never ends in time.
func bigString(n int) *bytes.Reader {
	b := make([]byte, n)
	b[0] = '"'
	for i := 1; i < n; i++ {
		b[i] = 'a'
	}
	return bytes.NewReader(b)
}

func TestNewErrorBounds(t *testing.T) {
	e := agentapi.NewError(agentapi.ErrorOther, strings.Repeat("é", agentapi.MaxErrorText))
	if len(e.Message) > agentapi.MaxErrorText || !strings.HasPrefix(e.Message, "é") {
		t.Errorf("message of %d bytes", len(e.Message))
	}
	r := dnsResult(1)
	r.Report, r.Verdict, r.Error = nil, "", e
	if err := r.Validate(); err != nil {
		t.Errorf("a result with a bounded error: %v", err)
	}
	if e := agentapi.NewError(agentapi.ErrorOther, "bad \xff byte"); e.Message != "bad \uFFFD byte" {
		t.Errorf("invalid UTF-8 kept: %q", e.Message)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	good, _ := json.Marshal(agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(1), dnsResult(2)}})
	f.Add(good)
	f.Add([]byte(`{"version":1,"agent_id":"a","results":[{"seq":1,"kind":"dropped","last_seq":18446744073709551615,"started_at":"2026-01-01T00:00:00Z","finished_at":"2026-01-01T00:00:00Z"},{"seq":1}]}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := agentapi.DecodeBatch(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What decodes is valid, and encodes to something that decodes
		// the same.
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := agentapi.DecodeBatch(bytes.NewReader(again)); err != nil {
			t.Fatalf("re-encoded batch refused: %v", err)
		}
		for i := 1; i < len(got.Results); i++ {
			if got.Results[i].Seq <= got.Results[i-1].Seq {
				t.Fatal("accepted a batch out of order")
			}
		}
	})
}

func FuzzDecodeSchedule(f *testing.F) {
	good, _ := json.Marshal(schedule())
	f.Add(good)
	f.Add([]byte(`{"version":1,"site":"s","tasks":[{"kind":"dns","interval_seconds":10}],"routers":[{"id":"r","address":"::1%x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := agentapi.DecodeSchedule(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, task := range s.Tasks {
			if task.Interval() < agentapi.MinInterval || task.Interval() > agentapi.MaxInterval {
				t.Fatalf("accepted interval %v", task.Interval())
			}
		}
		if len(s.Routers) > agentapi.MaxRouters {
			t.Fatal("accepted too many routers")
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add([]byte(`{"version":1,"acked_seq":3}`))
	f.Add([]byte(`{"version":1,"acked_seq":3,"expected_seq":4,"error":"gap"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := agentapi.DecodeAck(bytes.NewReader(b))
		if err == nil && a.Version != agentapi.Version {
			t.Fatal("accepted another version")
		}
	})
}
