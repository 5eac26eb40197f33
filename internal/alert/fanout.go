// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Notifier sends one event to one channel. It returns when the event was
// handed over, it failed, or ctx is done, whichever comes first; it never
// blocks past ctx.
type Notifier interface {
	Notify(ctx context.Context, ev Event) error
}

// Channel is a named Notifier. Names are unique within a Fanout; they are
// what the state remembers for events still owed ("webhook", "smtp").
type Channel struct {
	Name     string
	Notifier Notifier
}

// Fanout sends each event to every channel.
type Fanout struct {
	Channels []Channel
}

// Names returns the channel names in order.
func (f *Fanout) Names() []string {
	names := make([]string, len(f.Channels))
	for i, c := range f.Channels {
		names[i] = c.Name
	}
	return names
}

// ChannelError is a channel that did not take an event.
type ChannelError struct {
	Channel string
	Err     error
}

func (e *ChannelError) Error() string { return e.Channel + ": " + e.Err.Error() }

func (e *ChannelError) Unwrap() error { return e.Err }

// DeliveryError lists the channels that failed to take an event; the
// others took it.
type DeliveryError struct {
	Failures []ChannelError
}

func (e *DeliveryError) Error() string {
	parts := make([]string, len(e.Failures))
	for i := range e.Failures {
		parts[i] = e.Failures[i].Error()
	}
	return "alert not delivered on " + strings.Join(parts, "; ")
}

// Unwrap returns each channel's error.
func (e *DeliveryError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i := range e.Failures {
		errs[i] = &e.Failures[i]
	}
	return errs
}

// Channels returns the names of the failed channels.
func (e *DeliveryError) Channels() []string {
	names := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		names[i] = f.Channel
	}
	return names
}

// Notify sends ev to every channel. It returns nil, or a *DeliveryError
// naming the channels that failed.
func (f *Fanout) Notify(ctx context.Context, ev Event) error {
	return f.NotifyOnly(ctx, ev, nil)
}

// NotifyOnly sends ev to the channels named in only (all when only is
// nil), at the same time, so that a slow channel does not eat the time of
// the others. Every channel is tried whatever the others do.
func (f *Fanout) NotifyOnly(ctx context.Context, ev Event, only []string) error {
	errs := make([]error, len(f.Channels))
	var wg sync.WaitGroup
	for i, c := range f.Channels {
		if only != nil && !slices.Contains(only, c.Name) {
			continue
		}
		wg.Go(func() {
			errs[i] = notifySafely(ctx, c.Notifier, ev)
		})
	}
	wg.Wait()
	var de DeliveryError
	for i, err := range errs {
		if err != nil {
			de.Failures = append(de.Failures, ChannelError{Channel: f.Channels[i].Name, Err: err})
		}
	}
	if len(de.Failures) == 0 {
		return nil
	}
	return &de
}

// notifySafely turns a panic of a notifier into an error: one broken
// channel must not take the daemon, and the other channels, down.
func notifySafely(ctx context.Context, n Notifier, ev Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("notifier failed: %v", r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.Notify(ctx, ev)
}
