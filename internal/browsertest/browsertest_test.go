// SPDX-License-Identifier: Apache-2.0

package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInItsNamespace drives the real browser through a form on an
// in-process server, inside a namespace of its own.
func TestBrowserInItsNamespace(t *testing.T) {
	if !Isolate(t) {
		return
	}
	if err := Contained(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			fmt.Fprintf(w, `<!doctype html><title>done</title><p id="echo">%s</p>`, strings.ToUpper(r.PostForm.Get("site")))
			return
		}
		fmt.Fprint(w, `<!doctype html><title>form</title><form method="post"><input id="site" name="site"><button id="add" type="submit">Add</button></form>`)
	}))
	defer srv.Close()

	ctx := New(t, Options{})
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.SendKeys("#site", "branch office"),
		chromedp.Click("#add"),
	)
	if err != nil {
		t.Fatal(err)
	}
	echo, err := chromedp.Run(ctx, chromedp.Text("#echo"))
	if err != nil {
		t.Fatal(err)
	}
	Screenshot(t, ctx, "browsertest-echo")
	if echo != "BRANCH OFFICE" {
		t.Errorf("the page after the form says %q, want %q", echo, "BRANCH OFFICE")
	}
}

// fatalTB records the first Fatal and ends the goroutine, as testing does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// TestNewRefusesTheHostNamespace: in the host's namespace New fails before
// any browser starts.
func TestNewRefusesTheHostNamespace(t *testing.T) {
	Chromium(t)
	t.Setenv(envParentNS, "")
	t.Setenv(envLabHost, "")
	rec := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(rec, Options{})
	}()
	<-done
	if !strings.Contains(rec.msg, "refusing to start Chromium") {
		t.Errorf("New in the host namespace: %q, want a refusal", rec.msg)
	}
}
