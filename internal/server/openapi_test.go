// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The OpenAPI document is tested against the handlers: it must be a
// valid OpenAPI 3 document, every API route must be in it (with the
// weakest role the route table gives) and every documented operation
// must be a route, and every API request and answer of these tests is
// validated against it (fixture.do calls validateAPI).

var openAPI = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// Match any host: the document's server is relative (/api/v1).
	doc.Servers = openapi3.Servers{{URL: "https://" + testHost + apiPrefix}}
	return gorillamux.NewRouter(doc)
})

func TestOpenAPIDocumentIsValid(t *testing.T) {
	if _, err := openAPI(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPIMatchesRoutes: every API route is documented with its
// weakest role, and every documented operation is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := newFixture(t).srv
	registered := map[string]bool{}
	for _, rt := range s.routes {
		if !rt.api {
			if strings.HasPrefix(rt.path, apiPrefix) && rt.access != accessAgent {
				t.Errorf("route %s is under %s but not marked api", rt.pattern(), apiPrefix)
			}
			continue
		}
		method := cmp.Or(rt.method, http.MethodGet) // a public mount answers GET
		key := method + " " + strings.TrimPrefix(rt.path, apiPrefix)
		registered[key] = true
		item := doc.Paths.Value(strings.TrimPrefix(rt.path, apiPrefix))
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in the OpenAPI document", rt.pattern())
			continue
		}
		op := item.GetOperation(method)
		want := string(rt.minRole())
		if rt.access == accessPublic {
			want = "public"
		}
		if got, _ := op.Extensions["x-min-role"].(string); got != want {
			t.Errorf("%s: the document says x-min-role %q, the route table %q", rt.pattern(), got, want)
		}
		if !strings.Contains(op.Description, "**"+want+"**") && want != "public" {
			t.Errorf("%s: the description does not name the role %s", rt.pattern(), want)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			// An optional route is mounted only when the server is asked
			// to (the public lookup): TestOpenAPIOptionalRoutes mounts it.
			if optional, _ := op.Extensions["x-optional"].(bool); optional {
				continue
			}
			if !registered[method+" "+path] {
				t.Errorf("the document describes %s %s, which is not a route", method, path)
			}
		}
	}
}

// validateAPI serves r, checking the request (unless it is invalid on
// purpose: its answer must then be a 4xx) and the answer against the
// document. Requests the document does not know must be answered 404
// or 405 with the error JSON.
func validateAPI(t testing.TB, s *Server, r *http.Request, body string, w *httptest.ResponseRecorder) {
	t.Helper()
	router, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: false}
	route, params, ferr := router.FindRoute(r)
	var reqErr error
	if ferr == nil {
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		reqErr = openapi3filter.ValidateRequest(context.Background(), in)
		r.Body = io.NopCloser(strings.NewReader(body)) // the validator read it
	}
	s.Handler().ServeHTTP(w, r)
	if ferr != nil {
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s is not in the OpenAPI document but was answered %d", r.Method, r.URL.Path, w.Code)
		}
		checkErrorJSON(t, w)
		return
	}
	if reqErr != nil && w.Code < 400 {
		t.Errorf("%s %s: the request does not match the OpenAPI document but was answered %d: %v", r.Method, r.URL.Path, w.Code, reqErr)
	}
	if w.Header().Get("Content-Type") == "application/json" || w.Code >= 400 {
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts},
			Status:                 w.Code, Header: w.Header(), Options: opts,
		}
		out.SetBodyBytes(bytes.Clone(w.Body.Bytes()))
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s: the answer %d does not match the OpenAPI document: %v\n%s", r.Method, r.URL.Path, w.Code, err, w.Body)
		}
	}
}

// checkErrorJSON checks the API's one error shape.
func checkErrorJSON(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code < 400 {
		return
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("an API error answered %q, want application/json: %s", ct, w.Body)
		return
	}
	if !strings.HasPrefix(w.Body.String(), `{"error":{"code":"`) {
		t.Errorf("an API error is not the error JSON: %s", w.Body)
	}
}

// TestOpenAPIServed: the document is served, public, as it is embedded.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	w := f.do(request{method: "GET", path: apiPrefix + "/openapi.json"})
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), openAPIDoc) {
		t.Fatalf("GET openapi.json: %d, %d bytes", w.Code, w.Body.Len())
	}
	if !slices.Contains([]string{"application/json"}, w.Header().Get("Content-Type")) {
		t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
	}
}

// TestOpenAPIOptionalRoutes mounts the public lookup's routes (a stub
// here; serve mounts internal/publish/lookuppage) and checks that they
// are public and that the API one is the documented optional route.
func TestOpenAPIOptionalRoutes(t *testing.T) {
	f := newFixture(t)
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"query":{"model":"` + r.URL.Query().Get("model") + `"},"results":[]}` + "\n"))
	})
	var err error
	f.srv, err = New(Options{Store: f.st, TLS: f.srv.tls, Public: []PublicRoute{
		{Pattern: "/lookup", Handler: stub}, {Pattern: apiPrefix + "/lookup", Handler: stub},
	}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := openapi3.NewLoader().LoadFromData(openAPIDoc)
	var mounted int
	for _, rt := range f.srv.routes {
		if rt.method != "" {
			continue
		}
		mounted++
		if rt.access != accessPublic {
			t.Errorf("%s is not public", rt.pattern())
		}
		if rt.api {
			op := doc.Paths.Value(strings.TrimPrefix(rt.path, apiPrefix)).Get
			if op == nil || op.Extensions["x-optional"] != true {
				t.Errorf("%s is not an optional route of the document", rt.pattern())
			}
		}
	}
	if mounted != 2 {
		t.Fatalf("%d public mounts, want 2", mounted)
	}
	w := f.do(request{method: "GET", path: apiPrefix + "/lookup?model=TL-WR841N"})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "TL-WR841N") {
		t.Errorf("lookup: %d %s", w.Code, w.Body)
	}
}
