// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// Bounds of what a request may send.
const (
	// maxBody bounds every request body (forms and JSON): nothing the
	// server takes is larger, and a client cannot make it buffer more.
	maxBody = 1 << 20
	// maxJSON bounds a JSON request body; the largest (a range scope
	// with many prefixes) is far below.
	maxJSON = 256 << 10
)

// apiError is the one shape of every error the JSON API answers:
// {"error": {"code": "not_found", "message": "..."}}. The message is for
// people and never holds a secret or a stored value.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorCode names a status in the API's error JSON.
func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true) // a device's string never reads as markup, even if sniffed
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		_ = json.NewEncoder(&b).Encode(apiError{apiErrorBody{Code: "internal", Message: "could not encode the answer"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// writeError answers an API error.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{apiErrorBody{Code: errorCode(status), Message: msg}})
}

// httpError is an error with the status and message it answers.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// errNotFound is the answer to any ID the organisation does not have:
// another organisation's record reads exactly like a missing one.
var errNotFound = &httpError{http.StatusNotFound, "not found"}

// statusOf maps an error of a handler or the store to its status and a
// message that reveals nothing stored: the store's ErrInvalid names the
// field (never its value), ErrConflict says only that the name is taken.
func statusOf(err error) (int, string) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.As(err, &mbe), errors.Is(err, strictjson.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "already exists"
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable, "the server is shutting down"
	}
	return http.StatusInternalServerError, "internal error"
}

// decodeJSON reads a request body strictly: application/json, one
// value, no unknown field, no trailing data, at most maxJSON bytes.
func decodeJSON(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/json" {
		return &httpError{http.StatusUnsupportedMediaType, "the body must be application/json"}
	}
	if err := strictjson.Decode(r.Body, maxJSON, v); err != nil {
		var mbe *http.MaxBytesError
		if errors.Is(err, strictjson.ErrTooLarge) || errors.As(err, &mbe) {
			return &httpError{http.StatusRequestEntityTooLarge, "request body too large"}
		}
		// strictjson's message names the field or the offset, never a
		// value of the body.
		return badRequest("%s", strings.TrimPrefix(err.Error(), "strictjson: "))
	}
	return nil
}

// pageOf reads ?limit= and ?offset= (both optional). The store caps the
// limit at store.MaxLimit.
func pageOf(r *http.Request) (store.Page, error) {
	var p store.Page
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		to   *int
	}{{"limit", &p.Limit}, {"offset", &p.Offset}} {
		s := q.Get(f.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1<<30 {
			return p, badRequest("%s must be a whole number from 0", f.name)
		}
		*f.to = n
	}
	if p.Limit > store.MaxLimit {
		p.Limit = store.MaxLimit
	}
	return p, nil
}

// list is the shape of every paged list: the items, the window that was
// asked, and next_offset when there may be more.
type list[T any] struct {
	Items      []T  `json:"items"`
	Limit      int  `json:"limit"`
	Offset     int  `json:"offset"`
	NextOffset *int `json:"next_offset,omitempty"`
}

func pagedList[T any](items []T, p store.Page) list[T] {
	if items == nil {
		items = []T{}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	l := list[T]{Items: items, Limit: limit, Offset: p.Offset}
	if len(items) == limit {
		n := p.Offset + limit
		l.NextOffset = &n
	}
	return l
}

// window applies a page to a list the store returns whole (devices,
// sites).
func window[T any](items []T, p store.Page) []T {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	if p.Offset >= len(items) {
		return nil
	}
	return items[p.Offset:min(len(items), p.Offset+limit)]
}

// pathInt64 reads a positive integer path value; anything else is a
// 404 (no row has that ID).
func pathInt64(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFound
	}
	return n, nil
}
