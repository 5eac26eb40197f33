// SPDX-License-Identifier: Apache-2.0

package mikrotiktest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// RESTOptions configure the REST handler.
type RESTOptions struct {
	// Users are the accounts: name to password.
	Users map[string]string
	// Busy answers every request 503, as a router out of sessions.
	Busy bool
}

// RESTHandler serves RouterOS 7's REST API over st (help.mikrotik.com
// "REST API", CONFIGS.md §3.2): GET /rest/<menu> answers a settings menu
// with one JSON object and a list menu with an array, every value a
// string; HTTP Basic with a console user; errors as
// {"error":<status>,"message":…}.
func RESTHandler(st *State, o RESTOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"error": status, "message": msg})
		}
		if o.Busy {
			fail(http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		user, pass, ok := r.BasicAuth()
		if want, known := o.Users[user]; !ok || !known || pass != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="REST API"`)
			fail(http.StatusUnauthorized, "Unauthorized")
			return
		}
		key, ok := strings.CutPrefix(r.URL.Path, "/rest/")
		if !ok {
			fail(http.StatusNotFound, "Not Found")
			return
		}
		if r.Method != http.MethodGet {
			fail(http.StatusBadRequest, "method not supported by this fake")
			return
		}
		rows, ok := st.Rows(key)
		if !ok {
			fail(http.StatusNotFound, "Not Found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if st.IsSingle(key) && len(rows) == 1 {
			json.NewEncoder(w).Encode(rows[0])
			return
		}
		json.NewEncoder(w).Encode(rows)
	})
}
