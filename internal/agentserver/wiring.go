// SPDX-License-Identifier: Apache-2.0

package agentserver

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/store"
)

// The server mounts the handler behind internal/auth's middleware, and
// reads the sites from the store:
//
//	h, err := agentserver.New(agentserver.Options{Auth: agentserver.AuthPrincipal{},
//		Sites: agentserver.StoreSites{Store: st}, Store: st, Index: ix})
//	mux.Handle(agentapi.BasePath, authenticator.Authenticate(h))

// AuthPrincipal is the Authenticator of a handler mounted behind
// auth.Authenticator.Authenticate: the principal the middleware verified
// and put in the request's context. Only an agent token of a site
// passes; a user's session or API token is refused with 403.
type AuthPrincipal struct{}

// AuthenticateAgent implements Authenticator.
func (AuthPrincipal) AuthenticateAgent(r *http.Request) (Principal, error) {
	p, ok := auth.PrincipalFrom(r.Context())
	switch {
	case !ok:
		// A routing mistake (the handler mounted outside the
		// middleware) fails closed.
		return Principal{}, ErrUnauthenticated
	case p.Kind != auth.KindAgent || p.SiteID == "":
		return Principal{}, ErrForbidden
	}
	return Principal{OrgID: p.OrgID, SiteID: p.SiteID, Token: p.ID}, nil
}

// DefaultInterval is a site's schedule when it has none: watch's default
// interval.
const DefaultInterval = 15 * time.Minute

// StoreSites is the Sites of the store: a site's tasks run at its
// Schedule (clamped to agentapi's bounds), and its routers are its
// devices that have an IP address (the network and gateway records this
// handler makes aside).
type StoreSites struct {
	Store store.Store
	// Interval is the schedule of a site without one; 0 means
	// DefaultInterval.
	Interval time.Duration
	// Kinds are the tasks every site runs; nil means all of
	// agentapi.TaskKinds (the DNS audit, the router checks, the config
	// pulls).
	Kinds []agentapi.Kind
}

var adapterRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// AgentSite implements Sites.
func (s StoreSites) AgentSite(ctx context.Context, p Principal) (Site, error) {
	t := s.Store.ForOrg(p.OrgID)
	site, err := t.Site(ctx, p.SiteID)
	if err != nil {
		return Site{}, err
	}
	devs, err := t.Devices(ctx)
	if err != nil {
		return Site{}, err
	}
	interval := site.Schedule
	if interval <= 0 {
		interval = s.Interval
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	interval = min(max(interval, agentapi.MinInterval), agentapi.MaxInterval)
	kinds := s.Kinds
	if kinds == nil {
		kinds = agentapi.TaskKinds
	}
	out := Site{Name: site.Name}
	for _, k := range kinds {
		out.Tasks = append(out.Tasks, agentapi.Task{Kind: k, IntervalSeconds: int(interval / time.Second)})
	}
	for _, d := range devs {
		if d.Site != p.SiteID || d.ID == networkID(p) || d.ID == gatewayID(p) || !agentapi.ValidName(d.ID, agentapi.MaxRouterIDLen) {
			continue
		}
		addr, err := netip.ParseAddr(d.Address)
		if err != nil || addr.Zone() != "" {
			continue // a host name or nothing: the agent never resolves names
		}
		r := agentapi.Router{ID: d.ID, Address: addr.Unmap(), Label: cutLabel(d.Label)}
		if adapterRe.MatchString(d.Adapter) {
			r.Adapter = d.Adapter
		}
		if len(out.Routers) == agentapi.MaxRouters {
			break
		}
		out.Routers = append(out.Routers, r)
	}
	return out, nil
}

// cutLabel fits a device's label to a schedule's bound (1024 bytes, on a
// character boundary).
func cutLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= 1024 {
		return s
	}
	n := 1024
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
