// SPDX-License-Identifier: Apache-2.0

package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/routerwatch/routerwatch/internal/browsertest"
)

// TestBrowserSmoke drives Debian's Chromium (in a network namespace of
// its own) through the wiring this package owns: the login form, htmx
// loaded under the strict Content-Security-Policy, and an alert
// acknowledged by htmx with the CSRF header, swapped in place without
// a page load. The full flows (agents, hijack alerts, screenshots of
// every page) are the browser tests' own.
func TestBrowserSmoke(t *testing.T) {
	if !browsertest.Isolate(t) {
		return
	}
	f := newFixture(t)
	ts := httptest.NewUnstartedServer(f.srv.Handler())
	ts.StartTLS()
	defer ts.Close()
	spki := sha256.Sum256(ts.Certificate().RawSubjectPublicKeyInfo)
	ctx := browsertest.New(t, browsertest.Options{TrustSPKI: []string{base64.StdEncoding.EncodeToString(spki[:])}})
	ctx, cancel := contextWithTimeout(ctx, time.Minute)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#login-name", "acme-operator"),
		chromedp.SendKeys("#login-password", f.passwords["acme-operator"]),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible(`[data-testid="page-sites"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "serve-sites")
	for _, p := range []struct{ path, wait, name string }{
		{"/sites/acme-office", "#site-devices", "serve-site"},
		{"/devices/acme-rtr", "#device-report", "serve-device"},
		{"/devices/acme-rtr/config", `[data-testid="change-event"]`, "serve-config"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(p.wait)); err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		browsertest.Screenshot(t, ctx, p.name)
	}
	id := f.ids["alert"]
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/alerts"),
		chromedp.WaitVisible("#alert-ack-"+id),
	); err != nil {
		t.Fatal(err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && htmx.version === "2.0.11"`))
	if err != nil || !loaded {
		t.Fatalf("htmx did not load under the policy: %v", err)
	}
	// A marker that survives only if the page is not reloaded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.rwMarker = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#alert-ack-"+id)); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const e = document.querySelector('#alert-`+id+` [data-testid="alert-state"]'); return e && e.textContent.includes("acknowledged") ? e.textContent : null })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("the row was not swapped: %v", err)
	}
	if !strings.Contains(state, "acknowledged by acme-operator") {
		t.Errorf("row state %q", state)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.rwMarker === true`))
	if err != nil || !same {
		t.Error("the page was reloaded: htmx did not handle the form")
	}
	browsertest.Screenshot(t, ctx, "serve-alerts-acknowledged")
	a, err := f.st.ForOrg("acme").Alert(t.Context(), mustInt(t, id))
	if err != nil || a.AckedBy != "acme-operator" {
		t.Errorf("the store says acked by %q (%v)", a.AckedBy, err)
	}
}
