// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressEvery bounds how often the bar is redrawn: often enough to look
// alive, rarely enough to cost nothing on a fast scan.
const progressEvery = 100 * time.Millisecond

// progressWidth is the bar's width in cells.
const progressWidth = 30

// Progress draws a one-line progress bar (carriage return, erase line).
// Use it only on a terminal; it is safe for concurrent use.
type Progress struct {
	w     io.Writer
	total int
	now   func() time.Time

	mu    sync.Mutex // guards the following
	sweep *SweepCounts
	done  int
	start time.Time
	last  time.Time
	drawn bool
}

// NewProgress returns a bar for total targets; now nil means time.Now.
func NewProgress(w io.Writer, total int, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{w: w, total: total, now: now, start: now()}
}

// Done counts one finished target and redraws when due. During a sweep
// the counts come from Sweep and Done only redraws.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.sweep != nil {
		p.sweep.Audited = max(p.sweep.Audited, min(p.done, p.sweep.Live))
	}
	t := p.now()
	if p.done < p.total && t.Sub(p.last) < progressEvery {
		return
	}
	p.last = t
	p.draw(t)
}

// Sweep shows the sweep's counts instead of targets done: "swept N/M ·
// live K · audited J/K". Redrawn when due.
func (p *Progress) Sweep(c SweepCounts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep = &c
	t := p.now()
	if t.Sub(p.last) < progressEvery && c.Swept < c.Total {
		return
	}
	p.last = t
	p.draw(t)
}

func (p *Progress) draw(t time.Time) {
	if c := p.sweep; c != nil {
		frac := 1.0
		if c.Total > 0 {
			frac = float64(c.Swept) / float64(c.Total)
		}
		full := min(int(frac*progressWidth), progressWidth)
		bar := strings.Repeat("█", full) + strings.Repeat("░", progressWidth-full)
		line := fmt.Sprintf("\r\x1b[K%s swept %d/%d · live %d · audited %d/%d", bar, c.Swept, c.Total, c.Live, c.Audited, c.Live)
		if s := t.Sub(p.start).Seconds(); s > 0 && c.Swept > 0 {
			line += fmt.Sprintf(" · %.0f addresses/s", float64(c.Swept)/s)
		}
		io.WriteString(p.w, line)
		p.drawn = true
		return
	}
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	full := int(frac * progressWidth)
	bar := strings.Repeat("█", full) + strings.Repeat("░", progressWidth-full)
	el := t.Sub(p.start)
	line := fmt.Sprintf("\r\x1b[K%s %d/%d targets", bar, p.done, p.total)
	if s := el.Seconds(); s > 0 && p.done > 0 {
		rate := float64(p.done) / s
		line += fmt.Sprintf(" · %.1f/s", rate)
		if left := p.total - p.done; left > 0 {
			line += " · eta " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String()
		}
	}
	io.WriteString(p.w, line)
	p.drawn = true
}

// Clear erases the bar, so that other output starts on a clean line.
func (p *Progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
