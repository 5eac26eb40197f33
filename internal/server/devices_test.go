// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/store"
)

// TestAPISiteDevices registers and edits a site's routers through the
// API (each answer validated against the OpenAPI document by
// fixture.do) and checks what the store and the audit log then hold.
func TestAPISiteDevices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	globex := f.st.ForOrg("globex")
	if _, err := globex.PutDevice(ctx, store.Device{ID: "globex-rtr", Site: "globex-hq", Address: "10.9.0.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ForOrg("acme").PutSite(ctx, store.Site{ID: "acme-branch", Name: "Acme Branch"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		method, path string
		body         string
		role         string // acme's token of this role; "globex/admin" as is
		want         int
		contains     []string
	}{
		{name: "created", method: "POST", path: "/sites/acme-office/devices", body: `{"id":"front","label":"front desk","address":"192.168.1.1","adapter":"tplink-legacy"}`,
			want: 201, contains: []string{`"id":"front"`, `"site":"acme-office"`, `"address":"192.168.1.1"`, `"adapter":"tplink-legacy"`, `"label":"front desk"`}},
		{name: "id derived, adapter detected", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.1"}`,
			want: 201, contains: []string{`"id":"acme-office-10.0.0.1"`}, role: "operator"},
		{name: "IPv6 id derived", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"FD00::1","adapter":"openwrt-ubus"}`,
			want: 201, contains: []string{`"id":"acme-office-fd00--1"`, `"address":"fd00::1"`}},
		{name: "mapped address unmapped", method: "POST", path: "/sites/acme-office/devices", body: `{"id":"mapped","address":"::ffff:10.0.0.9"}`,
			want: 201, contains: []string{`"address":"10.0.0.9"`}},
		{name: "bad address", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"router.lan"}`, want: 400, contains: []string{"IPv4 or IPv6"}},
		{name: "address with a zone", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"fe80::1%eth0"}`, want: 400},
		{name: "unspecified address", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"0.0.0.0"}`, want: 400},
		{name: "multicast address", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"224.0.0.1"}`, want: 400},
		{name: "no address", method: "POST", path: "/sites/acme-office/devices", body: `{"id":"x"}`, want: 400, contains: []string{"address is required"}},
		{name: "unknown adapter", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.2","adapter":"netgear"}`, want: 400, contains: []string{"tplink-legacy"}},
		{name: "id with a slash", method: "POST", path: "/sites/acme-office/devices", body: `{"id":"acme-office/network","address":"10.0.0.2"}`, want: 400},
		{name: "label too long", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.2","label":"` + strings.Repeat("l", maxDeviceLabel+1) + `"}`, want: 400},
		{name: "unknown field", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.2","site":"globex-hq"}`, want: 400},
		{name: "viewer", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.3"}`, role: "viewer", want: 403},
		{name: "unknown site", method: "POST", path: "/sites/nowhere/devices", body: `{"address":"10.0.0.3"}`, want: 404},
		{name: "other organisation's site", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.3"}`, role: "globex/admin", want: 404},
		{name: "duplicate at this site", method: "POST", path: "/sites/acme-office/devices", body: `{"id":"front","address":"192.168.1.2"}`, want: 409, contains: []string{"this site"}},
		{name: "duplicate derived", method: "POST", path: "/sites/acme-office/devices", body: `{"address":"10.0.0.1"}`, want: 409},
		{name: "id at another site", method: "POST", path: "/sites/acme-branch/devices", body: `{"id":"acme-rtr","address":"10.0.0.4"}`, want: 409, contains: []string{"another site"}},
		{name: "another organisation's id is free", method: "POST", path: "/sites/acme-branch/devices", body: `{"id":"globex-rtr","address":"10.0.0.4"}`, want: 201},
		{name: "edit", method: "PATCH", path: "/sites/acme-office/devices/front", body: `{"label":"hall","adapter":"","address":"192.168.1.254"}`, role: "operator",
			want: 200, contains: []string{`"label":"hall"`, `"address":"192.168.1.254"`}},
		{name: "edit bad adapter", method: "PATCH", path: "/sites/acme-office/devices/front", body: `{"adapter":"Netgear"}`, want: 400},
		{name: "edit empties the address", method: "PATCH", path: "/sites/acme-office/devices/front", body: `{"address":""}`, want: 400},
		{name: "edit the id", method: "PATCH", path: "/sites/acme-office/devices/front", body: `{"id":"back"}`, want: 400},
		{name: "edit at the wrong site", method: "PATCH", path: "/sites/acme-branch/devices/front", body: `{"label":"x"}`, want: 404},
		{name: "edit unknown", method: "PATCH", path: "/sites/acme-office/devices/nothing", body: `{"label":"x"}`, want: 404},
		{name: "edit viewer", method: "PATCH", path: "/sites/acme-office/devices/front", body: `{"label":"x"}`, role: "viewer", want: 403},
		{name: "edit other organisation", method: "PATCH", path: "/sites/globex-hq/devices/globex-rtr", body: `{"label":"x"}`, want: 404},
		{name: "edit an escaped id", method: "PATCH", path: "/sites/acme-office/devices/" + url.PathEscape("acme-office/gw"), body: `{"label":"gateway"}`, want: 200, contains: []string{`"id":"acme-office/gw"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "edit an escaped id" {
				// A device an agent's results made, with a '/' in its ID.
				if _, err := f.st.ForOrg("acme").PutDevice(ctx, store.Device{ID: "acme-office/gw", Site: "acme-office", Address: "10.0.0.254"}); err != nil {
					t.Fatal(err)
				}
			}
			tok := f.tokens["acme/"+c.role]
			switch c.role {
			case "":
				tok = f.tokens["acme/admin"]
			case "globex/admin":
				tok = f.tokens[c.role]
			}
			w := f.do(request{method: c.method, path: apiPrefix + c.path, body: c.body, token: tok})
			if w.Code != c.want {
				t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, w.Code, c.want, w.Body)
			}
			checkErrorJSON(t, w)
			for _, s := range c.contains {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("answer lacks %q: %s", s, w.Body)
				}
			}
		})
	}
	acme := f.st.ForOrg("acme")
	d, err := acme.Device(ctx, "front")
	if err != nil || d.Site != "acme-office" || d.Address != "192.168.1.254" || d.Adapter != "" || d.Label != "hall" {
		t.Errorf("front in the store: %+v, %v", d, err)
	}
	if d, err := acme.Device(ctx, "acme-rtr"); err != nil || d.Site != "acme-office" {
		t.Errorf("the refused id moved the device: %+v, %v", d, err)
	}
	if d, err := globex.Device(ctx, "globex-rtr"); err != nil || d.Site != "globex-hq" || d.Label != "" {
		t.Errorf("globex's device changed: %+v, %v", d, err)
	}
	es, err := acme.AuditLog(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var creates, updates int
	for _, e := range es {
		switch {
		case e.Action == "device.create":
			creates++
		case e.Action == "device.update" && e.Object == "device front":
			updates++
			if !strings.Contains(e.Detail, "address=192.168.1.254") {
				t.Errorf("the update's audit entry: %+v", e)
			}
		}
	}
	if creates != 5 || updates != 1 {
		t.Errorf("audit log: %d device.create, %d device.update of front; want 5 and 1:\n%+v", creates, updates, es)
	}
}

// TestOpenAPIAdapters: the adapters the document allows are the
// registry's (and empty), so a new adapter cannot be forgotten there.
func TestOpenAPIAdapters(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]any{""}, func() (out []any) {
		for _, n := range adapters.Names() {
			out = append(out, n)
		}
		return out
	}()...)
	for _, name := range []string{"DeviceCreate", "DeviceUpdate"} {
		got := doc.Components.Schemas[name].Value.Properties["adapter"].Value.Enum
		if !slices.Equal(got, want) {
			t.Errorf("%s.adapter's enum is %v, want %v", name, got, want)
		}
	}
}

// TestSitePageRouterForm: the site page offers the "Add a router" form
// (with the registry's adapters) to those who may edit the site only;
// the form adds the router, an error is shown in the form with what was
// sent, and a viewer's crafted POST is refused.
func TestSitePageRouterForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, adminCSRF := f.session("acme-admin")
	page := f.do(request{method: "GET", path: "/sites/acme-office", cookie: admin})
	if page.Code != 200 {
		t.Fatalf("site page: %d", page.Code)
	}
	body := page.Body.String()
	for _, s := range append([]string{`id="router-add-form"`, `action="/sites/acme-office/devices"`, `name="csrf_token"`, `<option value="" selected>detect automatically</option>`}, adapters.Names()...) {
		if !strings.Contains(body, s) {
			t.Errorf("the site page lacks %q", s)
		}
	}
	viewer, viewerCSRF := f.session("acme-viewer")
	if vp := f.do(request{method: "GET", path: "/sites/acme-office", cookie: viewer}).Body.String(); strings.Contains(vp, "router-add-form") {
		t.Error("a viewer is offered the router form")
	}

	form := url.Values{"address": {"10.1.2.3"}, "adapter": {"routeros-api"}, "label": {"back <office>"}, "id": {"back"}}
	w := f.do(request{method: "POST", path: "/sites/acme-office/devices", body: form.Encode(), cookie: admin, csrf: adminCSRF})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sites/acme-office" {
		t.Fatalf("adding a router: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	d, err := f.st.ForOrg("acme").Device(ctx, "back")
	if err != nil || d.Site != "acme-office" || d.Address != "10.1.2.3" || d.Adapter != "routeros-api" || d.Label != "back <office>" {
		t.Fatalf("the router in the store: %+v, %v", d, err)
	}
	listed := f.do(request{method: "GET", path: "/sites/acme-office", cookie: admin}).Body.String()
	for _, s := range []string{`data-device="back"`, "back &lt;office&gt;", "10.1.2.3", "routeros-api"} {
		if !strings.Contains(listed, s) {
			t.Errorf("the site page does not list the router: lacks %q", s)
		}
	}

	bad := url.Values{"address": {"router.lan"}, "adapter": {"tplink-legacy"}, "label": {"kept label"}}
	w = f.do(request{method: "POST", path: "/sites/acme-office/devices", body: bad.Encode(), cookie: admin, csrf: adminCSRF})
	if w.Code != http.StatusBadRequest {
		t.Fatalf("a bad address: %d", w.Code)
	}
	eb := w.Body.String()
	for _, s := range []string{`id="router-add-error"`, "IPv4 or IPv6", `value="router.lan"`, `value="kept label"`, `<option value="tplink-legacy" selected>`} {
		if !strings.Contains(eb, s) {
			t.Errorf("the refused form lacks %q", s)
		}
	}
	w = f.do(request{method: "POST", path: "/sites/acme-office/devices", body: form.Encode(), cookie: admin, csrf: adminCSRF})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `id="router-add-error"`) {
		t.Errorf("a duplicate id: %d", w.Code)
	}
	if w := f.do(request{method: "POST", path: "/sites/nowhere/devices", body: form.Encode(), cookie: admin, csrf: adminCSRF}); w.Code != http.StatusNotFound {
		t.Errorf("an unknown site: %d", w.Code)
	}

	other := url.Values{"address": {"10.1.2.4"}}
	if w := f.do(request{method: "POST", path: "/sites/acme-office/devices", body: other.Encode(), cookie: viewer, csrf: viewerCSRF}); w.Code != http.StatusForbidden {
		t.Errorf("a viewer's POST: %d, want 403", w.Code)
	}
	if _, err := f.st.ForOrg("acme").Device(ctx, "acme-office-10.1.2.4"); err == nil {
		t.Error("a viewer added a router")
	}
}
