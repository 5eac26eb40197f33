// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

func TestWriter(t *testing.T) {
	evs := sampleEvents(t)
	for _, format := range []string{FormatText, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w := &Writer{W: &buf, Format: format}
			for _, ev := range evs {
				if err := w.Notify(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(evs) {
				t.Fatalf("%d lines for %d events:\n%s", len(lines), len(evs), buf.String())
			}
			if format == FormatJSON {
				for i, l := range lines {
					var back Event
					if err := json.Unmarshal([]byte(l), &back); err != nil {
						t.Fatalf("line %d is not an event: %v", i, err)
					}
					if back.ID != evs[i].ID || back.Kind != evs[i].Kind {
						t.Errorf("line %d reads back as %s %s", i, back.Kind, back.ID)
					}
				}
			}
			testutil.Golden(t, "writer."+format, buf.Bytes())
		})
	}
}

// TestWriterEscapes: a device's text cannot break the line or send
// terminal control sequences.
func TestWriterEscapes(t *testing.T) {
	ev := sampleEvents(t)[0]
	ev.Device.Label = "evil\x1b]52;c;aGk=\x07router"
	ev.Detail = "line one\nFAKE 2026-01-01T00:00:00Z RESOLVED"
	var buf bytes.Buffer
	if err := (&Writer{W: &buf}).Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("line not escaped: %q", out)
	}
	if err := (&Writer{W: &buf, Format: "xml"}).Notify(context.Background(), ev); err == nil {
		t.Error("unknown format accepted")
	}
}
