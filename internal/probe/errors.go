// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// ErrProtocol reports a peer that answered, but not in the protocol the
// probe speaks (garbage on the port, a malformed reply).
var ErrProtocol = errors.New("peer answered outside the protocol")

// Error is a measurement failure with its classification.
type Error struct {
	Probe  string      // probe ID
	Status netx.Status // why it failed
	Err    error       // what failed
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s probe: %s: %v", e.Probe, e.Status, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Wrap classifies err for probe id. It returns nil for nil and err itself
// when it already is an *Error.
func Wrap(id string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Probe: id, Status: Classify(err), Err: err}
}

// Classify maps a measurement error to a netx.Status. It knows *Error,
// ErrProtocol and the net/http transport's errors that carry no sentinel,
// and defers to netx.Classify for the rest.
func Classify(err error) netx.Status {
	var pe *Error
	switch {
	case err == nil:
		return netx.StatusOK
	case errors.As(err, &pe):
		return pe.Status
	case errors.Is(err, ErrProtocol):
		return netx.StatusProtocol
	}
	// net/http reports these conditions only as text.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server response headers exceeded"):
		return netx.StatusTooLarge
	case strings.Contains(msg, "malformed HTTP"),
		strings.Contains(msg, "tls: first record does not look like a TLS handshake"),
		// The server spoke before the request (a banner on an HTTP port):
		// net/http's "unsolicited response" path.
		strings.Contains(msg, "readLoopPeekFailLocked"),
		strings.Contains(msg, "server closed idle connection"):
		return netx.StatusProtocol
	}
	st := netx.Classify(err)
	if st == netx.StatusError && strings.Contains(msg, "tls:") {
		// A TLS alert or an unsupported cipher: the port speaks TLS, or
		// something like it, but not in a way we can complete.
		return netx.StatusProtocol
	}
	return st
}

// AfterConnect classifies an error that came after the connection was
// made: a reset is then the peer refusing the exchange (a protocol
// failure), not a closed port, and must not read as "closed".
func AfterConnect(err error) error {
	if err == nil || Classify(err) != netx.StatusRefused {
		return err
	}
	var pe *Error
	if errors.As(err, &pe) {
		return &Error{Probe: pe.Probe, Status: netx.StatusProtocol, Err: fmt.Errorf("%w (reset after connecting)", err)}
	}
	return fmt.Errorf("%w (reset after connecting): %w", err, ErrProtocol)
}

// Exchange records the outcome of one exchange with one endpoint.
type Exchange struct {
	Port uint16 `json:"port"`
	// Open is true when a TCP connection was established (or, for UDP,
	// when anything came back): the port is reachable, whatever it spoke.
	Open bool `json:"open"`
	// Status is ok when the endpoint answered in the expected protocol.
	Status netx.Status `json:"status"`
	// Error says what went wrong; empty when Status is ok.
	Error string `json:"error,omitempty"`
	// Elapsed is how long the exchange took.
	Elapsed Duration `json:"elapsed_seconds"`
}

// Duration is a time.Duration that renders in JSON as seconds.
type Duration time.Duration

// MarshalJSON renders d as a number of seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', -1, 64), nil
}

// Finish records err (nil for success) and the time since start.
func (x *Exchange) Finish(start time.Time, err error) {
	x.Elapsed = Duration(time.Since(start))
	x.Status = Classify(err)
	if err != nil {
		x.Error = err.Error()
	}
}

// Answered reports whether the endpoint answered in its protocol.
func (x *Exchange) Answered() bool { return x.Status == netx.StatusOK }

// Outcome folds the exchanges of one probe run into the probe's error:
// nil when any endpoint answered, or when every endpoint was closed (a
// closed port is a measurement); otherwise the first failure that was
// not "closed", classified. A context that ended always shows.
type Outcome struct {
	id       string
	answered bool
	closed   int
	failure  error
	// silence, when set, makes a timeout while it is alive a
	// measurement too (NewUDPOutcome).
	silence context.Context
}

// NewOutcome starts an Outcome for probe id.
func NewOutcome(id string) *Outcome { return &Outcome{id: id} }

// NewUDPOutcome starts an Outcome for a UDP question-and-answer probe
// (SNMP, DNS), where silence is a measurement as a closed port is: agents
// drop wrong communities and devices without the service stay quiet. A
// timeout counts as silence only while ctx is alive; once the target's
// deadline has cut the probe, it is a failure.
func NewUDPOutcome(ctx context.Context, id string) *Outcome {
	return &Outcome{id: id, silence: ctx}
}

// Add records one exchange's error (nil for an answer).
func (o *Outcome) Add(err error) {
	switch st := Classify(err); {
	case err == nil:
		o.answered = true
	case st == netx.StatusRefused,
		st == netx.StatusTimeout && o.silence != nil && o.silence.Err() == nil:
		o.closed++
	case o.failure == nil:
		o.failure = err
	}
}

// Gather runs ask(0) … ask(n-1) in parallel, adds their errors once all
// have returned, and gives the probe's error (Err).
func (o *Outcome) Gather(ctx context.Context, n int, ask func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = ask(i) })
	}
	wg.Wait()
	for _, err := range errs {
		o.Add(err)
	}
	return o.Err(ctx)
}

// Err returns the probe's error after all exchanges were added.
func (o *Outcome) Err(ctx context.Context) error {
	if o.answered {
		return nil
	}
	if o.failure != nil {
		return Wrap(o.id, o.failure)
	}
	if err := ctx.Err(); err != nil {
		return Wrap(o.id, err)
	}
	return nil
}

// Deadline returns the earlier of ctx's deadline and now+limit: probes
// bound each exchange so that one slow port cannot eat the whole target
// deadline.
func Deadline(ctx context.Context, limit time.Duration) time.Time {
	dl := time.Now().Add(limit)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		return d
	}
	return dl
}
