// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestAudit(t *testing.T) {
	env := newTestEnv(t)
	p := Principal{OrgID: "org-a", Kind: KindToken, ID: "t1", Name: "ci", Role: RoleOperator}
	tests := []struct {
		name    string
		ctx     bool // the request carries p
		detail  string
		want    AuditEntry
		wantErr error
	}{
		{name: "recorded", ctx: true, detail: "name=office", want: AuditEntry{
			OrgID: "org-a", ActorKind: KindToken, ActorID: "t1", ActorName: "ci",
			Action: "site.create", Object: "site:42", Detail: "name=office",
			RemoteAddr: "198.51.100.7", At: env.clock.Now(),
		}},
		{name: "long_detail_cut_on_a_character", ctx: true, detail: strings.Repeat("é", 600), want: AuditEntry{
			OrgID: "org-a", ActorKind: KindToken, ActorID: "t1", ActorName: "ci",
			Action: "site.create", Object: "site:42", Detail: strings.Repeat("é", 512),
			RemoteAddr: "198.51.100.7", At: env.clock.Now(),
		}},
		{name: "unauthenticated_refused", ctx: false, wantErr: ErrNoPrincipal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.store.audit = nil
			r := httptest.NewRequest(http.MethodPost, "/api/v1/sites", nil)
			r.RemoteAddr = "198.51.100.7:3333"
			if tc.ctx {
				r = r.WithContext(WithPrincipal(r.Context(), p))
			}
			err := env.a.Audit(r, "site.create", "site:42", tc.detail)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Audit error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if len(env.store.audit) != 0 {
					t.Error("an entry was written for an unauthenticated request")
				}
				return
			}
			if len(env.store.audit) != 1 {
				t.Fatalf("%d entries, want 1", len(env.store.audit))
			}
			got := env.store.audit[0]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
			if !utf8.ValidString(got.Detail) || len(got.Detail) > maxAuditDetail {
				t.Errorf("detail of %d bytes, valid UTF-8 %v", len(got.Detail), utf8.ValidString(got.Detail))
			}
		})
	}
}

func TestLoginIsAudited(t *testing.T) {
	env := newTestEnv(t)
	env.login(t, "bob")
	if len(env.store.audit) != 1 {
		t.Fatalf("%d audit entries after a login, want 1", len(env.store.audit))
	}
	e := env.store.audit[0]
	if e.Action != "session.login" || e.OrgID != "org-b" || e.ActorID != "u-b" || e.ActorKind != KindUser || e.RemoteAddr != "192.0.2.10" {
		t.Errorf("login entry %+v", e)
	}
}
