// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"context"
	"net"
	"os"
	"sync"
	"time"
)

// packet is one datagram delivered to the probe.
type packet struct {
	b     []byte
	from  net.Addr
	delay time.Duration
}

// fakeConn is an in-memory link: what the probe writes goes to respond,
// whose packets come back through ReadFrom.
type fakeConn struct {
	respond func(pkt []byte, dst net.Addr) []packet
	// writeErr, if set, fails the write when it returns an error; its
	// argument is the number of packets sent so far.
	writeErr func(sent int) error

	mu       sync.Mutex // guards following
	sent     [][]byte
	dsts     []net.Addr
	deadline time.Time

	in     chan packet
	kick   chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newFakeConn(respond func([]byte, net.Addr) []packet) *fakeConn {
	return &fakeConn{respond: respond, in: make(chan packet, 64), kick: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (f *fakeConn) open(context.Context, string) (PacketConn, error) { return f, nil }

// WriteTo honours the deadline as a real socket does: SetDeadline sets
// the write deadline too, so a write after it fails.
func (f *fakeConn) WriteTo(b []byte, dst net.Addr) (int, error) {
	f.mu.Lock()
	if f.writeErr != nil {
		err := f.writeErr(len(f.sent))
		if err != nil {
			f.mu.Unlock()
			return 0, err
		}
	}
	if !f.deadline.IsZero() && !time.Now().Before(f.deadline) {
		f.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	f.sent = append(f.sent, append([]byte(nil), b...))
	f.dsts = append(f.dsts, dst)
	f.mu.Unlock()
	if f.respond == nil {
		return len(b), nil
	}
	for _, p := range f.respond(b, dst) {
		go func() {
			if p.delay > 0 {
				t := time.NewTimer(p.delay)
				defer t.Stop()
				select {
				case <-t.C:
				case <-f.closed:
					return
				}
			}
			select {
			case f.in <- p:
			case <-f.closed:
			}
		}()
	}
	return len(b), nil
}

func (f *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		f.mu.Lock()
		dl := f.deadline
		f.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case p := <-f.in:
			return copy(b, p.b), p.from, nil
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-f.kick:
		case <-f.closed:
			return 0, nil, net.ErrClosed
		}
	}
}

func (f *fakeConn) SetDeadline(t time.Time) error {
	f.mu.Lock()
	f.deadline = t
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeConn) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeConn) sentPackets() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.sent...)
}
