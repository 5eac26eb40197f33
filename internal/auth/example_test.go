// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
)

// How the server wires auth: the store adapted to the four interfaces
// (here the tests' map store), the login route outside Authenticate,
// every other route inside it with its guard, the access log around
// everything, and the TLS configuration.
func ExampleAuthenticator() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	st := newFakeStore() // the server: a small adapter over internal/store
	a, err := New(Config{Users: st, Tokens: st, Sessions: st, Audit: st, Logger: logger})
	if err != nil {
		panic(err)
	}

	api := http.NewServeMux()
	api.Handle("GET /api/v1/sites", RequireAction(ActionView)(http.NotFoundHandler()))
	api.Handle("POST /api/v1/sites", RequireAction(ActionSiteEdit)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			// ... make the change, then record it:
			if err := a.Audit(r, "site.create", "site:42", "name=office"); err != nil {
				http.Error(w, "not recorded", http.StatusInternalServerError)
			}
		})))
	api.Handle("POST /api/v1/agent/report", RequireAgent(http.NotFoundHandler()))

	root := http.NewServeMux()
	root.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Login(w, r, r.PostFormValue("name"), r.PostFormValue("password")); err != nil {
			WriteLoginError(w, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	root.Handle("/", a.Authenticate(api))

	tlsConf, _, err := TLSConfig("", "", filepath.Join(os.TempDir(), "routerwatch-example"), logger)
	if err != nil {
		panic(err)
	}
	_ = &http.Server{Handler: a.AccessLog(logger, root), TLSConfig: tlsConf}
}
