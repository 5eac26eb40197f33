// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/termtext"
)

// Writer formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Writer writes one line per event: the Event's JSON (FormatJSON), or a
// readable line (FormatText) with every string from a device escaped for
// a terminal.
type Writer struct {
	W      io.Writer
	Format string

	mu sync.Mutex // one line at a time, whole
}

// Notify writes ev. A writer cannot be interrupted mid-line; ctx is only
// checked before writing.
func (w *Writer) Notify(ctx context.Context, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var line []byte
	switch w.Format {
	case FormatJSON:
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encoding the event: %w", err)
		}
		line = append(b, '\n')
	case FormatText, "":
		line = []byte(TextLine(&ev) + "\n")
	default:
		return fmt.Errorf("unknown format %q", w.Format)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.W.Write(line)
	return err
}

// TextLine is the readable one-line form of ev:
//
//	2026-11-26T10:00:00Z RAISED high: <title> on <device> — <detail> [key]
//
// Device text is escaped with termtext.Line, so that the line stays one
// line and holds no terminal control sequence.
func TextLine(ev *Event) string {
	var b strings.Builder
	b.WriteString(ev.Time.UTC().Format(time.RFC3339))
	b.WriteString(" ")
	b.WriteString(termtext.Line(ev.Headline()))
	if d := ev.currentDetail(); d != "" {
		b.WriteString(" — ")
		b.WriteString(termtext.Line(d))
	}
	b.WriteString(" [")
	b.WriteString(termtext.Line(ev.Key))
	b.WriteString("]")
	return b.String()
}
