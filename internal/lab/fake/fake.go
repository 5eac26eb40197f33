// SPDX-License-Identifier: Apache-2.0

// Package fake runs the lab services that no real daemon can play. Two are
// hostile: a resolver that answers badly (KindDNS) and a router whose
// services misbehave (KindDevice); they exist so that routerwatch's probes
// and checks can be shown to end with unknown or error findings, within
// their deadlines and memory bounds, instead of crashing or hanging. Two
// are live management interfaces of the lab router: a legacy TP-Link web
// UI (KindTPLinkUI) and a RouterOS API (KindRouterOS), whose DHCP DNS
// setting is backed by the router's real dnsmasq (DHCPBackend), so that
// changing it through them changes what the router's DHCP hands out.
//
// The lab starts a fake like any other daemon: `routerwatch lab fake --kind
// KIND --config FILE` inside a lab namespace, in the foreground, logging to
// stderr, stopped by PID (SIGTERM ends Run through its context). The
// configuration is a JSON file the lab writes from the scenario (DNSConfig,
// DeviceConfig, TPLinkUIConfig, RouterOSConfig); it is decoded strictly. A
// fake listens only on the addresses its configuration names, which are
// lab addresses. The live fakes also refuse to start outside the router
// namespace their lab's state file names (ErrNotInLab), and signal only
// the dnsmasq that state file records, in their own namespace, with its
// recorded start time.
package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// Kind names a fake.
type Kind string

// The fakes.
const (
	// KindDNS is the hostile resolver (DNSConfig).
	KindDNS Kind = "hostile-dns"
	// KindDevice is the hostile router services (DeviceConfig).
	KindDevice Kind = "hostile-device"
	// KindTPLinkUI is the live legacy TP-Link web UI (TPLinkUIConfig).
	KindTPLinkUI Kind = "tplink-ui"
	// KindRouterOS is the live RouterOS API (RouterOSConfig).
	KindRouterOS Kind = "routeros-api"
)

// Kinds lists the fakes.
func Kinds() []Kind { return []Kind{KindDNS, KindDevice, KindTPLinkUI, KindRouterOS} }

// Errors Run returns before it listens.
var (
	// ErrUnknownKind: the kind is not one of Kinds.
	ErrUnknownKind = errors.New("unknown fake kind")
	// ErrConfig: the configuration file is unreadable or invalid.
	ErrConfig = errors.New("bad fake configuration")
)

// Run runs the fake kind with the configuration in configFile until ctx
// is done (then it returns nil) or a listener fails. It logs one line per
// request to logw.
func Run(ctx context.Context, kind Kind, configFile string, logw io.Writer) error {
	logger := slog.New(slog.NewTextHandler(logw, nil)).With("fake", string(kind))
	b, err := os.ReadFile(configFile)
	if err != nil {
		return fmt.Errorf("fake: %w: %w", ErrConfig, err)
	}
	switch kind {
	case KindDNS:
		var c DNSConfig
		if err := decodeStrict(b, &c); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("fake: %w: %w", ErrConfig, err)
		}
		return runDNS(ctx, c, logger)
	case KindDevice:
		var c DeviceConfig
		if err := decodeStrict(b, &c); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("fake: %w: %w", ErrConfig, err)
		}
		return runDevice(ctx, c, logger)
	case KindTPLinkUI:
		var c TPLinkUIConfig
		if err := decodeStrict(b, &c); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("fake: %w: %w", ErrConfig, err)
		}
		if err := requireLabNetns(c.DHCP.StateFile); err != nil {
			return err
		}
		return runTPLinkUI(ctx, c, logger)
	case KindRouterOS:
		var c RouterOSConfig
		if err := decodeStrict(b, &c); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("fake: %w: %w", ErrConfig, err)
		}
		if err := requireLabNetns(c.DHCP.StateFile); err != nil {
			return err
		}
		return runRouterOS(ctx, c, logger)
	default:
		return fmt.Errorf("fake: %w %q (known: %s, %s, %s, %s)", ErrUnknownKind, kind, KindDNS, KindDevice, KindTPLinkUI, KindRouterOS)
	}
}

// maxConfigSize bounds a fake's configuration file: a few devices or
// zones, kilobytes in practice.
const maxConfigSize = 1 << 20

// decodeStrict decodes the configuration (strictjson's contract: one
// JSON value, no unknown field, no trailing data, bounded).
func decodeStrict(b []byte, v any) error {
	if err := strictjson.Decode(bytes.NewReader(b), maxConfigSize, v); err != nil {
		return fmt.Errorf("fake: %w: %w", ErrConfig, err)
	}
	return nil
}
