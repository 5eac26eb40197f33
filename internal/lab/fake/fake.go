// SPDX-License-Identifier: Apache-2.0

// Package fake runs the lab's hostile fakes, the two lab services that no
// real daemon can play: a resolver that answers badly (KindDNS) and a
// router whose services misbehave (KindDevice). They exist so that
// routerwatch's probes and checks can be shown to end with unknown or
// error findings, within their deadlines and memory bounds, instead of
// crashing or hanging.
//
// The lab starts a fake like any other daemon: `routerwatch lab fake --kind
// KIND --config FILE` inside a lab namespace, in the foreground, logging to
// stderr, stopped by PID (SIGTERM ends Run through its context). The
// configuration is a JSON file the lab writes from the scenario (DNSConfig,
// DeviceConfig); it is decoded strictly. A fake listens only on the
// addresses its configuration names, which are lab addresses.
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
)

// Kinds lists the fakes.
func Kinds() []Kind { return []Kind{KindDNS, KindDevice} }

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
	default:
		return fmt.Errorf("fake: %w %q (known: %s, %s)", ErrUnknownKind, kind, KindDNS, KindDevice)
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
