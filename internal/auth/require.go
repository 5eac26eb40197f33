// SPDX-License-Identifier: Apache-2.0

package auth

import "net/http"

// Require lets through requests whose principal has at least role min;
// others get 403, and a request that never went through Authenticate
// gets 401 (a routing mistake must fail closed). Agents never pass.
func Require(min Role) func(http.Handler) http.Handler {
	return guard(func(p Principal) bool { return p.Kind != KindAgent && p.Role.AtLeast(min) })
}

// RequireAction lets through requests whose principal may do a (the role
// table, [Can]); others get 403, or 401 without a principal.
func RequireAction(a Action) func(http.Handler) http.Handler {
	return guard(func(p Principal) bool { return Can(p, a) })
}

// RequireAgent lets through agent tokens only. The handler must take the
// site from Principal.SiteID, never from the request, so an agent can
// only report for its own site.
func RequireAgent(next http.Handler) http.Handler {
	return guard(func(p Principal) bool { return p.Kind == KindAgent && p.SiteID != "" })(next)
}

func guard(allowed func(Principal) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="routerwatch"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			if !allowed(p) {
				http.Error(w, "forbidden: your role does not allow this", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
