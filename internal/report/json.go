// SPDX-License-Identifier: Apache-2.0

package report

import (
	"encoding/json"
	"io"
)

// WriteJSON renders r as one indented JSON document (schema_version
// SchemaVersion). Field names are snake_case and stable; times are RFC
// 3339; enums (status, severity, confidence) are lowercase words.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
