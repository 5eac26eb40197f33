// SPDX-License-Identifier: Apache-2.0

package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/routerwatch/routerwatch/internal/finding"
)

//go:embed templates/report.html.tmpl
var templateFS embed.FS

// htmlTemplate is parsed once, on first use; the template is part of the
// binary, so a parse error is a build mistake the golden test catches.
var htmlTemplate = sync.OnceValues(func() (*template.Template, error) {
	return template.New("report.html.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/report.html.tmpl")
})

var funcs = template.FuncMap{
	"statusClass": func(s finding.Status) string { return s.String() },
	"failing":     func(s finding.Status) bool { return s == finding.StatusFail },
	"group": func(fs []finding.Finding, want string) []finding.Finding {
		var out []finding.Finding
		for _, f := range fs {
			st := f.Status.String()
			if st == "error" {
				st = "unknown"
			}
			if st == want {
				out = append(out, f)
			}
		}
		return out
	},
	"footer": footer,
	"upper":  strings.ToUpper,
}

// WriteHTML renders r as a self-contained HTML page (no scripts, no
// external resources).
func WriteHTML(w io.Writer, r *Report) error {
	tmpl, err := htmlTemplate()
	if err != nil {
		return fmt.Errorf("report: html template: %w", err)
	}
	if err := tmpl.Execute(w, r); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}
