// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// RESTPuller reads a RouterOS 7 router over its REST API
// (https://<router>/rest/…, HTTP Basic with a console user; plain http
// since 7.9 when Target.TLS is false, which sends the password in clear).
type RESTPuller struct {
	// TLS verifies HTTPS; nil verifies against the system roots for the
	// router's address (see APIPuller.TLS).
	TLS *tls.Config
	// Now stamps snapshots; nil is time.Now.
	Now func() time.Time
}

var _ device.Puller = RESTPuller{}

// Name implements device.Puller.
func (RESTPuller) Name() string { return AdapterREST }

// maxRESTBody bounds one REST reply.
const maxRESTBody = 4 << 20

func restDisplay(key string) string { return "GET /rest/" + key }

// httpDoer is the client netx returns.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Pull implements device.Puller. REST has no session: every request
// carries the credentials, and there is nothing to log out of.
func (p RESTPuller) Pull(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) (*device.Snapshot, error) {
	if d == nil {
		return nil, errors.New("routeros rest: no dialer")
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	scheme, port := "http", uint16(80)
	var cfg *tls.Config
	if t.TLS {
		scheme, port = "https", 443
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if p.TLS != nil {
			cfg = p.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.Addr.String()
		}
	}
	if t.Port != 0 {
		port = t.Port
	}
	base := scheme + "://" + netip.AddrPortFrom(t.Addr, port).String() + "/rest/"
	hc := d.HTTPClient(netx.HTTPOptions{TLS: cfg, MaxRedirects: -1, MaxBody: maxRESTBody})

	replies := map[string][]map[string]string{}
	var warnings []string
	var raw []device.Artifact
	for i, m := range pullMenus {
		rows, status, err := restGet(ctx, hc, base+m.key, c)
		if err != nil {
			if i == 0 {
				// The first request tells whether this is RouterOS REST
				// at all.
				return nil, err
			}
			return nil, fmt.Errorf("routeros rest: %s: %w", restDisplay(m.key), err)
		}
		if status != http.StatusOK {
			if m.optional && status == http.StatusNotFound {
				// No such menu on this router: none of its rows.
				replies[m.key] = []map[string]string{}
				continue
			}
			warnings = append(warnings, fmt.Sprintf("%s: HTTP %d", restDisplay(m.key), status))
			continue
		}
		n := 0
		for _, row := range rows {
			n += redactRow(m.key, row)
		}
		replies[m.key] = rows
		raw = append(raw, artifact(restDisplay(m.key), rows, n))
	}
	snap := buildSnapshot(AdapterREST, t, replies, restDisplay, func(key, id string) string { return loc(id) })
	snap.Raw = raw
	snap.Warnings = append(warnings, snap.Warnings...)
	snap.TakenAt = now(p.Now)
	return snap, nil
}

// restGet fetches one menu. It returns the rows for 200, the status for
// a menu the router does not have (404) or refuses (400, 403), and an
// error for everything that ends the pull: refused credentials, a busy
// router, a reply that is not RouterOS REST.
func restGet(ctx context.Context, hc httpDoer, url string, c device.Credentials) ([]map[string]string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.SetBasicAuth(c.User, c.Password.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("routeros rest: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("routeros rest: reading %s: %w", req.URL.Path, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, 0, fmt.Errorf("routeros rest: %s: HTTP 401: %w", req.URL.Path, device.ErrAuth)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return nil, 0, fmt.Errorf("routeros rest: %s: HTTP %d: %w", req.URL.Path, resp.StatusCode, device.ErrBusy)
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden:
		// RouterOS answers {"error":404,"message":"Not Found"}; anything
		// else is not RouterOS.
		var e struct {
			Error   int    `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error != resp.StatusCode {
			return nil, 0, fmt.Errorf("routeros rest: %s: HTTP %d without a RouterOS error body: %w", req.URL.Path, resp.StatusCode, device.ErrUnsupported)
		}
		return nil, resp.StatusCode, nil
	default:
		return nil, 0, fmt.Errorf("routeros rest: %s: HTTP %d: %w", req.URL.Path, resp.StatusCode, device.ErrUnsupported)
	}
	rows, err := decodeRESTRows(body)
	if err != nil {
		return nil, 0, fmt.Errorf("routeros rest: %s: %v: %w", req.URL.Path, err, device.ErrUnsupported)
	}
	return rows, http.StatusOK, nil
}

// decodeRESTRows reads a REST reply: an array of objects (a list menu)
// or one object (a settings menu). RouterOS gives every value as a
// string; numbers and booleans are taken as their text, nested values
// are skipped.
func decodeRESTRows(body []byte) ([]map[string]string, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	var objs []map[string]any
	switch x := v.(type) {
	case []any:
		if len(x) > maxReplyRows {
			return nil, fmt.Errorf("more than %d rows", maxReplyRows)
		}
		for _, e := range x {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("an array element is not an object")
			}
			objs = append(objs, o)
		}
	case map[string]any:
		objs = []map[string]any{x}
	default:
		return nil, fmt.Errorf("neither an object nor an array of objects")
	}
	rows := make([]map[string]string, 0, len(objs))
	for _, o := range objs {
		r := map[string]string{}
		for k, val := range o {
			switch x := val.(type) {
			case string:
				r[k] = x
			case bool:
				r[k] = strconv.FormatBool(x)
			case json.Number:
				r[k] = x.String()
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}
