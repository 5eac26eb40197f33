// SPDX-License-Identifier: Apache-2.0

package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/store"
)

// A site's routers are its devices with an IP address: the agents'
// schedule (internal/agentserver's StoreSites) lists them, with their
// adapter, and the site's agent checks them and pulls their settings.
// The owner registers them here. The store cannot delete a device yet,
// so there is no route to remove one.

// deviceIDPattern is the one form of a router's ID given or derived
// here: it reads well in a URL and has no '/', so it can never take the
// name of the records an agent's results make (SITE/network,
// SITE/gateway).
var deviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// maxDeviceLabel bounds a router's label (people read it in a table).
const maxDeviceLabel = 256

// deviceInput is what creating (POST) and editing (PATCH) a site's
// router take; absent fields are left alone by PATCH.
type deviceInput struct {
	ID      *string `json:"id"`
	Label   *string `json:"label"`
	Address *string `json:"address"`
	Adapter *string `json:"adapter"`
}

// routerAddr reads a router's address. It is the router's LAN address,
// usually private: that is right here, unlike a site's public address,
// because only the site's agent reaches it, from the site's LAN; the
// server never dials it.
func routerAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, badRequest("address must be an IPv4 or IPv6 address (no host name, no zone)")
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, badRequest("address must be a router's unicast address")
	}
	return a, nil
}

// adapterNames are the adapters a router may name: the online adapters
// the agent pulls settings with (internal/device/adapters' registry).
func adapterNames() []string { return adapters.Names() }

// apply sets in's label, address and adapter on d.
func (in deviceInput) apply(d *store.Device) error {
	if in.Address != nil {
		a, err := routerAddr(strings.TrimSpace(*in.Address))
		if err != nil {
			return err
		}
		d.Address = a.String()
	}
	if in.Adapter != nil {
		if *in.Adapter != "" && !slices.Contains(adapterNames(), *in.Adapter) {
			return badRequest("adapter must be empty (the agent detects it) or one of: %s", strings.Join(adapterNames(), ", "))
		}
		d.Adapter = *in.Adapter
	}
	if in.Label != nil {
		l := strings.TrimSpace(*in.Label)
		if len(l) > maxDeviceLabel || !utf8.ValidString(l) || strings.ContainsFunc(l, unicode.IsControl) {
			return badRequest("label must be at most %d bytes of text without control characters", maxDeviceLabel)
		}
		d.Label = l
	}
	return nil
}

// derivedDeviceID is a router's ID when none is given: the site and the
// address, in deviceIDPattern's form (an IPv6 address's ':' as '-').
func derivedDeviceID(site string, a netip.Addr) string {
	return site + "-" + strings.ReplaceAll(a.String(), ":", "-")
}

// createDevice registers a router at a site of the request's
// organisation (API and dashboard).
func (s *Server) createDevice(r *http.Request, site string, in deviceInput) (store.Device, error) {
	t := s.tenant(r)
	if _, err := t.Site(r.Context(), site); err != nil {
		return store.Device{}, err
	}
	if in.Address == nil || strings.TrimSpace(*in.Address) == "" {
		return store.Device{}, badRequest("address is required: the router's IP address on the site's LAN")
	}
	d := store.Device{Site: site}
	if err := in.apply(&d); err != nil {
		return store.Device{}, err
	}
	if in.ID != nil && *in.ID != "" {
		d.ID = *in.ID
	} else {
		d.ID = derivedDeviceID(site, netip.MustParseAddr(d.Address))
	}
	if !deviceIDPattern.MatchString(d.ID) {
		return store.Device{}, badRequest("id must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	switch old, err := t.Device(r.Context(), d.ID); {
	case err == nil && old.Site == site:
		return store.Device{}, &httpError{http.StatusConflict, "a router with this id is at this site already: change it instead"}
	case err == nil:
		// PutDevice would move it here, taking its history along.
		return store.Device{}, &httpError{http.StatusConflict, "a device with this id is at another site"}
	case !errors.Is(err, store.ErrNotFound):
		return store.Device{}, err
	}
	ctx, err := s.change(r, "device.create", "device "+d.ID, deviceDetail(d))
	if err != nil {
		return store.Device{}, err
	}
	return t.PutDevice(ctx, d)
}

// deviceDetail is an audit entry's detail of a router's settings.
func deviceDetail(d store.Device) string {
	return fmt.Sprintf("site=%s address=%s adapter=%s label=%q", d.Site, d.Address, d.Adapter, d.Label)
}

// siteDevice returns the device id of the organisation at site, or
// ErrNotFound (a device of another site reads as missing here).
func (s *Server) siteDevice(r *http.Request, t store.Tenant, site, id string) (store.Device, error) {
	if _, err := t.Site(r.Context(), site); err != nil {
		return store.Device{}, err
	}
	d, err := t.Device(r.Context(), id)
	if err != nil {
		return store.Device{}, err
	}
	if d.Site != site {
		return store.Device{}, errNotFound
	}
	return d, nil
}

// updateDevice changes a site's router's label, address or adapter.
func (s *Server) updateDevice(r *http.Request, site, id string, in deviceInput) (store.Device, error) {
	if in.ID != nil && *in.ID != id {
		return store.Device{}, badRequest("a router's id cannot change")
	}
	t := s.tenant(r)
	d, err := s.siteDevice(r, t, site, id)
	if err != nil {
		return store.Device{}, err
	}
	if in.Address != nil && strings.TrimSpace(*in.Address) == "" {
		return store.Device{}, badRequest("address cannot be emptied: the agent only checks routers with an address")
	}
	if err := in.apply(&d); err != nil {
		return store.Device{}, err
	}
	ctx, err := s.change(r, "device.update", "device "+d.ID, deviceDetail(d))
	if err != nil {
		return store.Device{}, err
	}
	return t.PutDevice(ctx, d)
}

func (s *Server) apiCreateDevice(r *http.Request) (int, any, error) {
	var in deviceInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	d, err := s.createDevice(r, r.PathValue("site"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, d, nil
}

func (s *Server) apiUpdateDevice(r *http.Request) (int, any, error) {
	var in deviceInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	d, err := s.updateDevice(r, r.PathValue("site"), r.PathValue("device"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, d, nil
}

// routerForm is the site page's "Add a router" form: what was sent
// (shown again with the error when it was refused).
type routerForm struct {
	ID, Address, Adapter, Label string
	Error                       string
}

func (s *Server) postDevice(w http.ResponseWriter, r *http.Request) error {
	site := r.PathValue("site")
	_ = r.ParseForm() // a body over the bound reads as empty fields, refused below
	f := routerForm{ID: strings.TrimSpace(r.PostForm.Get("id")), Address: strings.TrimSpace(r.PostForm.Get("address")),
		Adapter: r.PostForm.Get("adapter"), Label: r.PostForm.Get("label")}
	if _, err := s.createDevice(r, site, deviceInput{ID: &f.ID, Address: &f.Address, Adapter: &f.Adapter, Label: &f.Label}); err != nil {
		st, msg := statusOf(err)
		if st >= 500 || st == http.StatusNotFound {
			return err
		}
		sp, perr := s.sitePageData(r, site)
		if perr != nil {
			return perr
		}
		f.Error = msg
		sp.RouterForm = f
		s.render(w, r, st, "site", pageData{Data: sp})
		return nil
	}
	// Site IDs are siteIDPattern's: safe in a path as they are.
	return seeOther(w, r, "/sites/"+site)
}
