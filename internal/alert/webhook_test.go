// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/config"
)

// hookServer answers each POST with the next status of script (the last
// one repeats) and records the requests.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	reqs   []hookRequest
	hang   chan struct{} // when set, the handler waits on it
}

type hookRequest struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newHookServer(t *testing.T, script ...int) *hookServer {
	t.Helper()
	h := &hookServer{script: script}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookRequest{header: r.Header.Clone(), body: body, at: time.Now()})
		status := h.script[min(len(h.reqs), len(h.script))-1]
		hang := h.hang
		h.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(status)
		io.WriteString(w, "status body\n")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name      string
		script    []int
		wantCalls int
		wantErr   string // "" for success
	}{
		{"200 at once", []int{200}, 1, ""},
		{"204 is success", []int{204}, 1, ""},
		{"500 then 200: retried once", []int{500, 200}, 2, ""},
		{"503 three times: gives up after 3 attempts", []int{503}, 3, "attempt 3 of 3: answered 503"},
		{"429 then 200: retried", []int{429, 200}, 2, ""},
		{"400: not retried", []int{400, 200}, 1, "answered 400 Bad Request: \"status body\" (not retried"},
		{"404: not retried", []int{404, 200}, 1, "answered 404"},
		{"302: not followed, not retried", []int{302, 200}, 1, "redirects are not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHookServer(t, tt.script...)
			w := &Webhook{URL: h.URL + "/hook", Backoff: time.Millisecond}
			err := w.Notify(context.Background(), sampleEvents(t)[0])
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Notify = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Notify = %v, want an error with %q", err, tt.wantErr)
			}
			if got := len(h.requests()); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestWebhookBodyAndSignature(t *testing.T) {
	h := newHookServer(t, 500, 200)
	secret := config.NewSecret("s3cret-for-hmac")
	clock := time.Unix(1_790_000_000, 0)
	w := &Webhook{URL: h.URL, Secret: secret, Backoff: time.Millisecond, Now: func() time.Time { return clock }}
	ev := sampleEvents(t)[0]
	if err := w.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		var back Event
		if err := json.Unmarshal(r.body, &back); err != nil || back.ID != ev.ID || back.Key != ev.Key {
			t.Errorf("request %d: body is not the event (%v): %s", i, err, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
		if r.header.Get(HeaderDelivery) != ev.ID || r.header.Get(HeaderEvent) != "raised" {
			t.Errorf("request %d: delivery %q event %q", i, r.header.Get(HeaderDelivery), r.header.Get(HeaderEvent))
		}
		ts, sig := r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature)
		if ts != "1790000000" || !strings.HasPrefix(sig, "sha256=") {
			t.Errorf("request %d: timestamp %q signature %q", i, ts, sig)
		}
		if err := VerifySignature(secret, ts, sig, r.body, clock.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		if err := VerifySignature(config.NewSecret("other"), ts, sig, r.body, clock, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("request %d: a wrong secret verifies: %v", i, err)
		}
		if err := VerifySignature(secret, ts, sig, append(r.body, ' '), clock, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("request %d: a changed body verifies: %v", i, err)
		}
		if err := VerifySignature(secret, ts, sig, r.body, clock.Add(time.Hour), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("request %d: an old timestamp verifies: %v", i, err)
		}
		if strings.Contains(string(r.body), "s3cret") {
			t.Errorf("request %d carries the secret", i)
		}
	}
	// A known answer, so that receivers in other languages can check
	// their code: HMAC-SHA256("key", "1.{}"), computed with Python's hmac.
	if got := Sign(config.NewSecret("key"), "1", []byte("{}")); got != "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224" {
		t.Errorf("Sign = %q", got)
	}
}

func TestWebhookUnsigned(t *testing.T) {
	h := newHookServer(t, 200)
	if err := (&Webhook{URL: h.URL}).Notify(context.Background(), sampleEvents(t)[0]); err != nil {
		t.Fatal(err)
	}
	r := h.requests()[0]
	if r.header.Get(HeaderSignature) != "" || r.header.Get(HeaderTimestamp) != "" {
		t.Errorf("signed without a secret: %v", r.header)
	}
}

// TestWebhookDeadline: a receiver that never answers cannot hold the
// caller past its context.
func TestWebhookDeadline(t *testing.T) {
	h := newHookServer(t, 200)
	h.hang = make(chan struct{})
	defer close(h.hang)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := (&Webhook{URL: h.URL, Backoff: time.Millisecond}).Notify(ctx, sampleEvents(t)[0])
	if err == nil {
		t.Fatal("Notify succeeded against a hanging receiver")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Notify took %v with a 200ms context", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not say the deadline passed", err)
	}
}

// TestWebhookAttemptTimeout: one attempt that hangs is cut at Timeout
// and retried.
func TestWebhookAttemptTimeout(t *testing.T) {
	h := newHookServer(t, 200)
	h.hang = make(chan struct{})
	defer close(h.hang)
	err := (&Webhook{URL: h.URL, Timeout: 50 * time.Millisecond, Backoff: time.Millisecond, Attempts: 2}).Notify(context.Background(), sampleEvents(t)[0])
	if err == nil || !strings.Contains(err.Error(), "attempt 2 of 2") {
		t.Errorf("Notify = %v, want two timed-out attempts", err)
	}
	if n := len(h.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// TestWebhookErrorsHideTheURL: the path and query of a webhook URL are
// its credential (Slack, Discord, Teams all work that way).
func TestWebhookErrorsHideTheURL(t *testing.T) {
	const token = "T0KEN-in-path"
	h := newHookServer(t, 400)
	urls := []string{
		h.URL + "/services/" + token + "?sig=" + token,
		"http://127.0.0.1:1/services/" + token, // nothing listens: a network error
	}
	for _, u := range urls {
		err := (&Webhook{URL: u, Attempts: 1}).Notify(context.Background(), sampleEvents(t)[0])
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error quotes the URL's secret part: %v", err)
		}
		if !strings.Contains(err.Error(), "webhook http://127.0.0.1:") {
			t.Errorf("error does not name the webhook by host: %v", err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"2", 2 * time.Second}, {"-1", 0}, {"3600", maxRetryAfter},
		{"Wed, 21 Oct 2026 07:28:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
