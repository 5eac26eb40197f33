// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// Legacy is the online adapter of the legacy web UI: a device.Puller and,
// for routerwatch fix --apply only, a device.Fixer. The zero value is
// ready to use and safe for concurrent use.
type Legacy struct {
	// Now stamps snapshots; nil means time.Now.
	Now func() time.Time

	// hash15 remembers the routers (by address and port) that took the
	// 15-character password variant, so that later pulls of an Archer C7
	// 150427 do not spend a failed login first.
	hash15 sync.Map
}

var _ device.Fixer = (*Legacy)(nil)

// Name is the adapter's name.
func (*Legacy) Name() string { return AdapterName }

// pullPages are the settings pages Pull reads after StatusRpm and the
// WAN type's page, in order.
var pullPages = []string{PageDHCP, PageManage, PageLocalManage, PageUPnP, PageWPS, PageUpgrade}

// menuEntry is the visibleMenuList entry that shows a page. The WAN
// pages hang under the menu's "WanCfgRpm" (the WAN type picks one).
func menuEntry(page string) string {
	switch page {
	case PageWANDynamic, PageWANStatic, PagePPPoEAdv:
		return "WanCfgRpm"
	}
	return strings.TrimSuffix(page, ".htm")
}

// secrets are the page elements that hold a secret; their literals are
// replaced in the raw artifacts. None of the other pages read holds one
// (the PPPoE credentials are on PPPoECfgRpm.htm, which is never read).
var secrets = map[string][]struct {
	array string
	index int
}{
	// The WPS PIN lets anyone who knows it join the Wi-Fi.
	PageWPS: {{"wpsInf", 1}},
}

// redacted replaces the secret literals of a page with "redacted".
func redacted(page string, body []byte) ([]byte, int) {
	refs, ok := secrets[page]
	if !ok {
		return body, 0
	}
	p, err := ParsePage(body)
	if err != nil {
		// A page that does not parse was not read either; keep none of it.
		return nil, 0
	}
	type span struct{ start, end int }
	var spans []span
	for _, r := range refs {
		a := p.Array(r.array)
		if a == nil || r.index >= len(a.Values) {
			continue
		}
		v := a.Values[r.index]
		spans = append(spans, span{v.Start, v.End})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out bytes.Buffer
	last := 0
	for _, s := range spans {
		out.Write(body[last:s.start])
		out.WriteString(`"redacted"`)
		last = s.end
	}
	out.Write(body[last:])
	return out.Bytes(), len(spans)
}

func (l *Legacy) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// open logs in, remembering which password variant worked.
func (l *Legacy) open(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) (*session, error) {
	key := netip.AddrPortFrom(t.Addr, t.Port)
	v, _ := l.hash15.Load(key)
	h15, _ := v.(bool)
	s, err := open(ctx, d, t, c, h15)
	if err != nil {
		return nil, err
	}
	l.hash15.Store(key, s.hash15)
	return s, nil
}

// withSession logs in, runs f, and always logs out.
func (l *Legacy) withSession(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, f func(*session) error) error {
	s, err := l.open(ctx, d, t, c)
	if err != nil {
		return err
	}
	err = f(s)
	if lerr := s.logout(ctx); lerr != nil {
		return errors.Join(err, lerr)
	}
	return err
}

// fatal reports whether a page error ends the pull: the router refused
// us, is busy, or went away. A page the router answers with an error
// (404, 500, too large) only leaves its fields unknown.
func fatal(err error) bool {
	var he *httpError
	return !errors.As(err, &he) && !errors.Is(err, errPageMissing) && !errors.Is(err, ErrPageTooLarge)
}

// Pull logs in, reads the pages this firmware's menu lists, and logs out.
// It sends no request that changes a setting.
func (l *Legacy) Pull(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) (*device.Snapshot, error) {
	snap := &device.Snapshot{Target: t.Addr, Adapter: AdapterName}
	pages := Pages{Bodies: map[string][]byte{}, Missing: map[string]string{}, User: c.User}
	err := l.withSession(ctx, d, t, c, func(s *session) error {
		keep := func(page string, body []byte) {
			pages.Bodies[page] = body
			raw, n := redacted(page, body)
			snap.Raw = append(snap.Raw, device.Artifact{Name: page, ContentType: "text/html", Body: raw, Redacted: n})
		}
		read := func(page, query string) error {
			body, err := s.read(ctx, page, query)
			if err != nil {
				if fatal(err) {
					return err
				}
				pages.Missing[page] = statusText(err)
				snap.Warnings = append(snap.Warnings, page+": not read ("+statusText(err)+")")
				return nil
			}
			keep(page, body)
			return nil
		}
		// The menu says which pages this firmware has.
		menu := s.probe
		if menu == nil {
			if err := read(PageMenu, ""); err != nil {
				return err
			}
			menu = pages.Bodies[PageMenu]
		} else {
			keep(PageMenu, menu)
		}
		var visible map[string]bool
		if p, err := ParsePage(menu); err == nil && p.Array("visibleMenuList") != nil {
			visible = map[string]bool{}
			for _, v := range p.Array("visibleMenuList").Values {
				visible[v.Text] = true
			}
		} else if menu != nil {
			snap.Warnings = append(snap.Warnings, PageMenu+": no visibleMenuList; reading every page")
		}
		listed := func(page string) bool {
			if visible == nil || visible[menuEntry(page)] {
				return true
			}
			pages.Missing[page] = "not in this firmware's menu (MenuRpm visibleMenuList)"
			snap.Warnings = append(snap.Warnings, page+": not in this firmware's menu")
			return false
		}
		if listed(PageStatus) {
			if err := read(PageStatus, ""); err != nil {
				return err
			}
		}
		if sp, err := ParsePage(pages.Bodies[PageStatus]); err == nil && pages.Bodies[PageStatus] != nil {
			if wt, ok := wanType(sp); ok {
				if page, query := wt.settingsPage(); page != "" && listed(page) {
					if err := read(page, query); err != nil {
						return err
					}
				}
			}
		}
		for _, page := range pullPages {
			if listed(page) {
				if err := read(page, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cfg, warn := Map(pages)
	snap.Config = cfg
	snap.Warnings = append(snap.Warnings, warn...)
	snap.TakenAt = l.now()
	return snap, nil
}
