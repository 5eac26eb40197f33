// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ChaosNames are the CHAOS-class TXT names resolvers answer about
// themselves: version.bind (software and version; dnsmasq, BIND,
// unbound), servers.bind (dnsmasq: its upstreams, "192.0.2.53#53 2 0"),
// id.server and hostname.bind (unbound, BIND, Knot: the host name).
var ChaosNames = []string{"version.bind", "servers.bind", "id.server", "hostname.bind"}

// ChaosEntry is the answer to one CHAOS name.
type ChaosEntry struct {
	Name string `json:"name"`
	// Value is the TXT text; empty when not answered.
	Value string `json:"value,omitempty"`
	// Rcode is the response code when the server answered.
	Rcode string `json:"rcode,omitempty"`
	// Err is the measurement error, when there was no valid reply.
	Err string `json:"error,omitempty"`
	// Status classifies Err (see Classify).
	Status string `json:"status,omitempty"`
}

// Fingerprint is what a resolver says about itself.
type Fingerprint struct {
	Entries []ChaosEntry `json:"entries"`
}

// Value returns the answer for name ("version.bind"), "" when none.
func (f Fingerprint) Value(name string) string {
	for _, e := range f.Entries {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// Reachable reports whether any CHAOS query got a valid reply (even a
// refusal): the server speaks DNS.
func (f Fingerprint) Reachable() bool {
	for _, e := range f.Entries {
		if e.Err == "" {
			return true
		}
	}
	return false
}

// ErrNoReply reports that none of the fingerprint queries got a valid
// reply.
var ErrNoReply = errors.New("dnsprobe: no valid reply to any CHAOS query")

// Fingerprint asks srv every ChaosNames question in parallel. Refusals
// are normal (many resolvers do not answer CHAOS) and are recorded per
// name; the error is ErrNoReply (wrapping the first cause) only when no
// query got any valid reply at all.
func (c *Client) Fingerprint(ctx context.Context, srv Server) (Fingerprint, error) {
	fp := Fingerprint{Entries: make([]ChaosEntry, len(ChaosNames))}
	errs := make([]error, len(ChaosNames))
	var wg sync.WaitGroup
	for i, name := range ChaosNames {
		wg.Go(func() {
			e := ChaosEntry{Name: name}
			r, err := c.Exchange(ctx, srv, Query{Name: name, Type: dns.TypeTXT, Class: dns.ClassCHAOS})
			if err != nil {
				e.Err, e.Status, errs[i] = err.Error(), Classify(err), err
			} else {
				e.Rcode = r.Rcode
				e.Value = strings.Join(r.TXT, " ")
			}
			fp.Entries[i] = e
		})
	}
	wg.Wait()
	if !fp.Reachable() {
		return fp, errors.Join(ErrNoReply, errs[0])
	}
	return fp, nil
}
