// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// Adapter reads an OpenWrt router through ubus and, only when asked,
// changes it. The zero Adapter is ready to use.
type Adapter struct {
	// TLSConfig verifies the router's certificate when Target.TLS is
	// set; nil accepts the self-signed certificate uhttpd ships with.
	TLSConfig *tls.Config
	// Now stamps snapshots; nil means time.Now.
	Now func() time.Time
	// RollbackTimeout is how long rpcd waits for Apply's confirmation
	// before it undoes the change itself; 0 means DefaultRollbackTimeout.
	RollbackTimeout time.Duration
}

var _ device.Fixer = Adapter{}

// Name implements device.Puller.
func (Adapter) Name() string { return NameUbus }

// Pull logs in, reads the configuration and the board, and logs out. A
// configuration the router lacks or the account may not read leaves its
// fields unknown, with a warning; a failed exchange fails the pull.
func (a Adapter) Pull(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) (*device.Snapshot, error) {
	cl, err := newClient(d, t, a.TLSConfig, c)
	if err != nil {
		return nil, err
	}
	if err := cl.login(ctx); err != nil {
		return nil, err
	}
	snap := &device.Snapshot{Target: t.Addr, Adapter: NameUbus, TakenAt: now(a.Now)}
	loggedOut := false
	defer func() {
		if !loggedOut {
			_ = cl.logout(ctx)
		}
	}()
	cfgs, raw, warnings, err := readConfigs(ctx, cl)
	if err != nil {
		return nil, err
	}
	snap.Raw = raw
	var w []string
	snap.Config, w = mapConfig(cfgs, NameUbus)
	warnings = append(warnings, w...)
	id, art, err := readBoard(ctx, cl)
	switch {
	case err == nil:
		snap.Config.Identity = id
		snap.Raw = append(snap.Raw, art)
	case denied(err) || absent(err):
		warnings = append(warnings, fmt.Sprintf("system board could not be read (%v): model and firmware are unknown", err))
	default:
		return nil, err
	}
	loggedOut = true
	if err := cl.logout(ctx); err != nil {
		warnings = append(warnings, err.Error())
	}
	snap.Warnings = warnings
	return snap, nil
}

// readConfigs reads every package with uci get. A package the router
// answers for with an error status (absent, refused, one rpcd cannot
// parse) leaves its fields unknown with a warning; a failed exchange, or
// no package read at all, is an error.
func readConfigs(ctx context.Context, cl *rpcClient) (configs, []device.Artifact, []string, error) {
	cfgs := configs{}
	var raw []device.Artifact
	var warnings []string
	var first error
	for _, name := range packages {
		p, err := cl.uciGet(ctx, name)
		var ce *CallError
		switch {
		case err == nil:
		case absent(err):
			warnings = append(warnings, fmt.Sprintf("the router has no %s configuration: the fields it holds are unknown", name))
		case denied(err):
			warnings = append(warnings, fmt.Sprintf("the account may not read the %s configuration: the fields it holds are unknown", name))
		case errors.As(err, &ce) || errors.Is(err, uci.ErrSyntax):
			warnings = append(warnings, fmt.Sprintf("the %s configuration could not be read (%v): the fields it holds are unknown", name, err))
		default:
			return nil, nil, nil, err
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		cfgs[name] = p
		r, n := redactPackage(p)
		raw = append(raw, device.Artifact{Name: "ubus uci get " + name, ContentType: "application/json", Body: uci.EncodeValues(r), Redacted: n})
	}
	if len(cfgs) == 0 {
		return nil, nil, nil, fmt.Errorf("openwrt: no configuration could be read: %w", first)
	}
	return cfgs, raw, warnings, nil
}

// board is the reply of `system board` (procd system.c).
type board struct {
	Kernel    string `json:"kernel"`
	Hostname  string `json:"hostname"`
	System    string `json:"system"`
	Model     string `json:"model"`
	BoardName string `json:"board_name"`
	Release   struct {
		Distribution string `json:"distribution"`
		Version      string `json:"version"`
		Revision     string `json:"revision"`
		Target       string `json:"target"`
		Description  string `json:"description"`
	} `json:"release"`
}

// maxBoardField bounds a board string kept in the Config.
const maxBoardField = 128

// boardText cleans a device string for the Config: printable, bounded.
func boardText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	if len(s) > maxBoardField {
		s = s[:maxBoardField]
	}
	return s
}

// decodeBoard maps `system board` to the identity.
func decodeBoard(obj []byte) (device.Identity, error) {
	var b board
	if err := json.Unmarshal(obj, &b); err != nil {
		return device.Identity{}, fmt.Errorf("%w: system board: %v", device.ErrUnsupported, err)
	}
	field := func(v, where, note string) device.Field[string] {
		src := device.Source{Adapter: NameUbus, Where: "system board " + where, Note: note}
		if v = boardText(v); v == "" {
			src.Note = join(note, "not in the reply")
			return device.Unknown[string](src)
		}
		return device.Known(v, src)
	}
	fw := strings.TrimSpace(boardText(b.Release.Version) + " " + boardText(b.Release.Revision))
	return device.Identity{
		Vendor:   field(b.Release.Distribution, "release.distribution", "the firmware distribution, whose advisories apply"),
		Model:    field(b.Model, "model", ""),
		Hardware: field(b.BoardName, "board_name", ""),
		Firmware: field(fw, "release.version, release.revision", ""),
	}, nil
}

func readBoard(ctx context.Context, cl *rpcClient) (device.Identity, device.Artifact, error) {
	obj, err := cl.call(ctx, "system", "board", nil)
	if err != nil {
		return device.Identity{}, device.Artifact{}, err
	}
	id, err := decodeBoard(obj)
	if err != nil {
		return device.Identity{}, device.Artifact{}, err
	}
	return id, device.Artifact{Name: "ubus system board", ContentType: "application/json", Body: obj}, nil
}
