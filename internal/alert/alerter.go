// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// State is what the alerter keeps between cycles (and between runs: watch
// stores it). Its JSON form is stable.
type State struct {
	// Open are the problems raised and not resolved, sorted by key.
	Open []Open `json:"open"`
	// Pending are events some channels have not taken yet, oldest first.
	Pending []Pending `json:"pending,omitempty"`
}

// Pending is an event still owed to some channels.
type Pending struct {
	Event Event `json:"event"`
	// Channels are the names of the channels that still owe it.
	Channels []string `json:"channels"`
	// Attempts counts the deliveries tried so far.
	Attempts int `json:"attempts"`
}

// Store keeps the State between cycles. Load of a store never saved
// returns the zero State. watch implements it with its database;
// MemoryStore is for tests and one-shot runs.
type Store interface {
	Load(ctx context.Context) (State, error)
	Save(ctx context.Context, s State) error
}

// MemoryStore is a Store in memory.
type MemoryStore struct {
	mu sync.Mutex
	s  State
}

// Load returns a copy of the saved state.
func (m *MemoryStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return State{Open: slices.Clone(m.s.Open), Pending: slices.Clone(m.s.Pending)}, nil
}

// Save keeps a copy of s.
func (m *MemoryStore) Save(_ context.Context, s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = State{Open: slices.Clone(s.Open), Pending: slices.Clone(s.Pending)}
	return nil
}

// DefaultMaxPending bounds the events kept for channels that are down: at
// a few events per cycle this is days of outage, and the oldest go first.
const DefaultMaxPending = 256

// saveTimeout bounds saving the state after a cycle whose context ended
// (a shutdown signal): what was sent must still be recorded, or it is
// sent again, but a broken store must not hold the daemon.
const saveTimeout = 5 * time.Second

// Alerter runs the alerting part of a watch cycle.
type Alerter struct {
	Store Store
	Out   *Fanout
	// MaxPending bounds State.Pending; 0 means DefaultMaxPending.
	MaxPending int
}

// Outcome says what one cycle did.
type Outcome struct {
	// Events are the events this cycle produced (not the retried ones).
	Events []Event
	// Delivered counts event deliveries that succeeded, retries included.
	Delivered int
	// Failures are the deliveries that failed this cycle; the events stay
	// pending for those channels.
	Failures []ChannelError
	// Pending is how many events are still owed after the cycle.
	Pending int
	// Dropped counts pending events given up because the queue was full.
	Dropped int
}

// Run runs one cycle: it loads the state, offers the pending events again
// to the channels that owe them, tracks c at time now, sends the new
// events and saves the state. An error is returned only when the state
// could not be loaded or saved; channel failures are in Outcome.Failures.
//
// Order per channel is kept: once an event failed on a channel in this
// cycle, later events are not tried on it but queued behind, so that a
// receiver never sees "resolved" before its "raised".
func (a *Alerter) Run(ctx context.Context, c Cycle, now time.Time) (Outcome, error) {
	var out Outcome
	st, err := a.Store.Load(ctx)
	if err != nil {
		return out, fmt.Errorf("alert: loading the state: %w", err)
	}
	configured := a.Out.Names()
	blocked := map[string]bool{}
	var pending []Pending
	deliver := func(p Pending) {
		var try, owed []string
		for _, ch := range p.Channels {
			switch {
			case !slices.Contains(configured, ch):
				// No longer configured: it owes nothing.
			case blocked[ch]:
				owed = append(owed, ch)
			default:
				try = append(try, ch)
			}
		}
		if len(try) > 0 {
			p.Attempts++
			var de *DeliveryError
			if err := a.Out.NotifyOnly(ctx, p.Event, try); errors.As(err, &de) {
				for _, f := range de.Failures {
					blocked[f.Channel] = true
					owed = append(owed, f.Channel)
					f.Err = fmt.Errorf("%s event %s: %w", p.Event.Kind, p.Event.Key, f.Err)
					out.Failures = append(out.Failures, f)
				}
				out.Delivered += len(try) - len(de.Failures)
			} else {
				out.Delivered += len(try)
			}
		}
		if len(owed) > 0 {
			p.Channels = owed
			pending = append(pending, p)
		}
	}
	for _, p := range st.Pending {
		deliver(p)
	}
	next, events := Track(st.Open, c, now)
	out.Events = events
	for _, ev := range events {
		deliver(Pending{Event: ev, Channels: configured})
	}
	max := a.MaxPending
	if max <= 0 {
		max = DefaultMaxPending
	}
	if len(pending) > max {
		out.Dropped = len(pending) - max
		pending = pending[out.Dropped:]
	}
	out.Pending = len(pending)
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := a.Store.Save(saveCtx, State{Open: next, Pending: pending}); err != nil {
		return out, fmt.Errorf("alert: saving the state: %w", err)
	}
	return out, nil
}
