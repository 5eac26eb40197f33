// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/config"
)

// Webhook headers. With a secret configured, every POST carries
//
//	X-Routerwatch-Timestamp: <Unix seconds when this attempt was signed>
//	X-Routerwatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The body is the exact bytes received. Signing the timestamp with the
// body lets a receiver refuse replays: check the signature in constant
// time, then that the timestamp is recent (VerifySignature does both).
const (
	HeaderSignature = "X-Routerwatch-Signature"
	HeaderTimestamp = "X-Routerwatch-Timestamp"
	// HeaderEvent is the event's kind; HeaderDelivery its id (the same on
	// every retry).
	HeaderEvent    = "X-Routerwatch-Event"
	HeaderDelivery = "X-Routerwatch-Delivery"
)

// Webhook retry defaults: three attempts, 1 s then 2 s apart, each
// bounded, so that a failing endpoint costs a cycle well under a minute.
const (
	DefaultWebhookAttempts = 3
	DefaultWebhookBackoff  = time.Second
	DefaultWebhookTimeout  = 10 * time.Second
	// maxRetryAfter caps a server's Retry-After: the retry must fit in a
	// watch cycle; longer outages are covered by the next cycle.
	maxRetryAfter = 30 * time.Second
	// maxWebhookResponse is read from a response, to reuse the connection
	// and to quote the start of an error.
	maxWebhookResponse = 64 << 10
)

// Webhook POSTs each event as JSON to URL.
type Webhook struct {
	URL string
	// Secret, when set, signs each request (see HeaderSignature).
	Secret config.Secret
	// Client does the requests; nil means NewWebhookClient(). A client
	// given here must not follow redirects.
	Client *http.Client
	// Attempts, Backoff and Timeout: 0 means the defaults above. Backoff
	// doubles after each retry.
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
	// Now is the clock of the signature timestamp; nil means time.Now.
	Now func() time.Time
}

// NewWebhookClient returns the HTTP client of webhooks: TLS 1.2 or newer,
// the environment's proxy, and redirects returned, not followed (a
// redirect would send the alert, and its signature, where the user did
// not say).
func NewWebhookClient() *http.Client {
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    DefaultWebhookTimeout,
		ResponseHeaderTimeout:  DefaultWebhookTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        90 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Sign returns the X-Routerwatch-Signature value of body sent at
// timestamp (decimal Unix seconds).
func Sign(secret config.Secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature reports a webhook request whose signature or timestamp
// does not check.
var ErrBadSignature = errors.New("webhook signature does not match")

// VerifySignature checks a received webhook: the signature over timestamp
// and body, compared in constant time, and a timestamp no further than
// maxAge from now.
func VerifySignature(secret config.Secret, timestamp, signature string, body []byte, now time.Time, maxAge time.Duration) error {
	want := Sign(secret, timestamp, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("%w: timestamp is %v away from now", ErrBadSignature, d.Round(time.Second))
	}
	return nil
}

// webhookName names a webhook URL in errors: scheme and host only, since
// the path or query of a webhook URL is often its credential.
func webhookName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "webhook"
	}
	return "webhook " + u.Scheme + "://" + u.Host
}

// Notify POSTs ev, retrying 5xx, 408, 429 and network errors up to
// Attempts times in all.
func (w *Webhook) Notify(ctx context.Context, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding the event: %w", err)
	}
	name := webhookName(w.URL)
	attempts := orDefault(w.Attempts, DefaultWebhookAttempts)
	backoff := orDefault(w.Backoff, DefaultWebhookBackoff)
	var last error
	for i := 1; ; i++ {
		wait, retry, err := w.post(ctx, ev, body)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%s: attempt %d of %d: %w", name, i, attempts, err)
		if !retry || i >= attempts {
			return last
		}
		wait = max(wait, backoff)
		backoff *= 2
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", last, ctx.Err())
		case <-t.C:
		}
	}
}

// post makes one attempt. It returns whether a retry may help and how
// long the server asked to wait (Retry-After).
func (w *Webhook) post(parent context.Context, ev Event, body []byte) (wait time.Duration, retry bool, err error) {
	ctx, cancel := context.WithTimeout(parent, orDefault(w.Timeout, DefaultWebhookTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, false, hideURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "routerwatch")
	req.Header.Set(HeaderEvent, string(ev.Kind))
	req.Header.Set(HeaderDelivery, ev.ID)
	if w.Secret.Reveal() != "" {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	}
	client := w.Client
	if client == nil {
		client = NewWebhookClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		// A network error or this attempt's timeout may pass; the
		// caller's end will not.
		return 0, parent.Err() == nil, hideURL(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return 0, false, nil
	case code >= 300 && code < 400:
		return 0, false, fmt.Errorf("answered %s; redirects are not followed: set the final URL", resp.Status)
	case code >= 500, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return retryAfter(resp.Header.Get("Retry-After")), true, fmt.Errorf("answered %s%s", resp.Status, quote(snippet))
	default:
		return 0, false, fmt.Errorf("answered %s%s (not retried: the request itself was refused)", resp.Status, quote(snippet))
	}
}

// hideURL drops the URL a *url.Error quotes: it may hold the webhook's
// token.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// retryAfter reads a Retry-After of delay seconds (an HTTP date is
// ignored), capped at maxRetryAfter.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// quote returns ": <start of body>" for an error, one escaped line of at
// most 200 bytes, or "" for an empty body.
func quote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return ": " + strconv.Quote(s)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
