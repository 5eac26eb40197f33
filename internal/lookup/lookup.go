// SPDX-License-Identifier: Apache-2.0

// Package lookup answers "is my model affected?" for every front end that
// asks it: `routerwatch lookup` and the public lookup page and API. It
// turns what a person typed (a model written loosely, a hardware revision,
// a market variant, a firmware build) into an advisory.Identity, resolves
// the model against the advisory data with "did you mean" for typos, and
// renders the assessment into the one result shape both front ends emit.
//
// The contract: the package is pure (no I/O, no clock). Parse refuses
// input with an *Error that names the field it is about, so each front end
// can word it in its own terms (a flag, a query parameter) around the same
// sentence; Resolve refuses a model no advisory names when the data knows
// models that look like it; Answer never fails. The Result's JSON form is
// `routerwatch lookup --format json`'s, versioned by schema_version: a
// change to it is a change to a public API.
package lookup

import (
	"fmt"
	"strings"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
)

// MaxFieldLen bounds every field of a Query, in bytes. The longest real
// values are firmware builds such as "3.16.9 Build 200409 Rel.52498n"
// (30 bytes) and product names such as "TL-WR841N/ND(MS) V9"; 200 leaves
// room for any of them while keeping a hostile request from making the
// parser, the suggestion search and the output pay for its size.
const MaxFieldLen = 200

// MaxSuggestions is how many "did you mean" models Resolve offers.
const MaxSuggestions = 5

// Query is a question as a person asks it.
type Query struct {
	// Model is the model as written, possibly with a revision and a
	// region: "wr841n", "TL-WR841N v10", "Archer C7(EU) V2".
	Model string
	// Vendor, when given, must agree with a vendor the model names.
	Vendor string
	// HW is the hardware revision from the label: 10, V10, 10.0.
	HW string
	// Region is the market variant: EU, US, EN, ...
	Region string
	// Firmware is the build from the status page.
	Firmware string
}

// Field names a part of a Query. Its string is the query parameter the
// public API uses; the CLI writes it as a flag ("--hw").
type Field string

// The fields of a Query.
const (
	FieldModel    Field = "model"
	FieldVendor   Field = "vendor"
	FieldHW       Field = "hw"
	FieldRegion   Field = "region"
	FieldFirmware Field = "fw"
)

// ErrorKind says what is wrong with a Query.
type ErrorKind uint8

// Kinds of Error.
const (
	ErrNoModel      ErrorKind = iota + 1 // no model given
	ErrManyModels                        // the model text names several models
	ErrTooLong                           // a field is longer than MaxFieldLen
	ErrBadHW                             // the hardware revision does not parse
	ErrBadRegion                         // the region is not a known market variant
	ErrConflict                          // the model text and a field disagree
	ErrUnknownModel                      // no advisory names the model; Suggestions look like it
)

// Error is a refused Query. Field is the part it is about; the message is
// built by Text so that the CLI and the API say the same sentence, each
// naming the field its own way.
type Error struct {
	Kind  ErrorKind
	Field Field
	// Value is the offending value as given (or the model text).
	Value string
	// ModelSays is, for ErrConflict, what the model text says.
	ModelSays string
	// Count is, for ErrManyModels, how many models the text names; for
	// ErrTooLong, the field's length.
	Count int
	// Suggestions are, for ErrUnknownModel, known models that look like
	// the one asked for, best first.
	Suggestions []string
}

// Style is how a front end names things in an Error's message.
type Style struct {
	// Name writes a field as the user set it: "--hw" or "hw".
	Name func(Field) string
	// Prefix starts messages that are about the query as a whole rather
	// than one field ("lookup: " for the CLI).
	Prefix string
	// Example is a complete question, shown when no model was given.
	Example string
}

// Text is the error's message in the style of a front end.
func (e *Error) Text(s Style) string {
	name := s.Name
	if name == nil {
		name = func(f Field) string { return string(f) }
	}
	switch e.Kind {
	case ErrNoModel:
		return s.Prefix + "give a model, e.g. " + s.Example
	case ErrManyModels:
		return fmt.Sprintf("%s%q names %d models; give one", s.Prefix, e.Value, e.Count)
	case ErrTooLong:
		return fmt.Sprintf("%s: %d bytes; at most %d", name(e.Field), e.Count, MaxFieldLen)
	case ErrBadHW:
		return fmt.Sprintf("%s: %q is not a hardware revision (want 10, V10 or 10.0)", name(e.Field), e.Value)
	case ErrBadRegion:
		return fmt.Sprintf("%s: %q is not a known market variant (known: %s)", name(e.Field), e.Value, strings.Join(advisory.Regions(), ", "))
	case ErrConflict:
		what := map[Field]string{FieldVendor: "vendor ", FieldHW: "hardware V", FieldRegion: "region "}[e.Field]
		return fmt.Sprintf("%sthe model says %s%s but %s says %s", s.Prefix, what, e.ModelSays, name(e.Field), e.Value)
	case ErrUnknownModel:
		return fmt.Sprintf("no advisory names model %q; did you mean %s?", e.Value, strings.Join(e.Suggestions, ", "))
	}
	return fmt.Sprintf("%s: invalid", name(e.Field))
}

// Error is the message in the API's style (fields by their parameter
// names).
func (e *Error) Error() string {
	return e.Text(Style{Example: "model=TL-WR841N&hw=10"})
}

// Parse reads a Query into an Identity. The model text may carry a
// revision and a region ("TL-WR841N(EU) v10"); a value given both there and
// in its own field must agree. It does not consult the advisory data:
// Resolve does.
func Parse(q Query) (advisory.Identity, error) {
	for _, f := range []struct {
		field Field
		value string
	}{{FieldModel, q.Model}, {FieldVendor, q.Vendor}, {FieldHW, q.HW}, {FieldRegion, q.Region}, {FieldFirmware, q.Firmware}} {
		if len(f.value) > MaxFieldLen {
			return advisory.Identity{}, &Error{Kind: ErrTooLong, Field: f.field, Count: len(f.value)}
		}
	}
	text := strings.TrimSpace(q.Model)
	if text == "" {
		return advisory.Identity{}, &Error{Kind: ErrNoModel, Field: FieldModel}
	}
	pn := advisory.ParseProductName(text)
	if len(pn.Models) != 1 {
		return advisory.Identity{}, &Error{Kind: ErrManyModels, Field: FieldModel, Value: text, Count: len(pn.Models)}
	}
	id := advisory.Identity{Vendor: pn.Vendor, Model: pn.Models[0], HWRev: pn.HWRev, Region: pn.Region, Firmware: strings.TrimSpace(q.Firmware)}
	if q.Vendor != "" {
		if id.Vendor != "" && advisory.VendorKey(id.Vendor) != advisory.VendorKey(q.Vendor) {
			return id, &Error{Kind: ErrConflict, Field: FieldVendor, Value: q.Vendor, ModelSays: id.Vendor}
		}
		id.Vendor = advisory.VendorName(q.Vendor)
	}
	if q.HW != "" {
		if _, _, ok := advisory.ParseHWRev(q.HW); !ok {
			return id, &Error{Kind: ErrBadHW, Field: FieldHW, Value: q.HW}
		}
		if id.HWRev != "" && advisory.CanonicalHWRev(q.HW) != id.HWRev {
			return id, &Error{Kind: ErrConflict, Field: FieldHW, Value: q.HW, ModelSays: id.HWRev}
		}
		id.HWRev = advisory.CanonicalHWRev(q.HW)
	}
	if q.Region != "" {
		r := strings.ToUpper(strings.TrimSpace(q.Region))
		if !advisory.IsRegion(r) {
			return id, &Error{Kind: ErrBadRegion, Field: FieldRegion, Value: q.Region}
		}
		if id.Region != "" && id.Region != r {
			return id, &Error{Kind: ErrConflict, Field: FieldRegion, Value: r, ModelSays: id.Region}
		}
		id.Region = r
	}
	return id, nil
}

// Resolve puts the model in the data's spelling ("wr841n" → TL-WR841N,
// with its vendor when none was given). A model no advisory names is an
// *Error of kind ErrUnknownModel when the data knows models that look like
// it (a typo); one that looks like nothing known is returned as it is, and
// Answer says that no advisory names it, which is not "safe".
func Resolve(ix *advisory.Index, id advisory.Identity) (advisory.Identity, error) {
	if m, ok := ix.Resolve(id.Model); ok {
		id.Model = m.Model
		if id.Vendor == "" {
			id.Vendor = m.Vendor
		}
	}
	if !ix.Knows(id) {
		if sugg := ix.Suggest(id.Model, MaxSuggestions); len(sugg) > 0 {
			names := make([]string, len(sugg))
			for i, s := range sugg {
				names[i] = s.Model
			}
			return id, &Error{Kind: ErrUnknownModel, Field: FieldModel, Value: id.Model, Suggestions: names}
		}
	}
	return id, nil
}

// Ask is Parse, Resolve and Answer in one call, for front ends that have
// the data at hand before they read the question.
func Ask(ix *advisory.Index, info datastore.Info, q Query) (Result, error) {
	id, err := Parse(q)
	if err != nil {
		return Result{}, err
	}
	if id, err = Resolve(ix, id); err != nil {
		return Result{}, err
	}
	return Answer(ix, id, info), nil
}

// Answer assesses id against the data and renders the result.
func Answer(ix *advisory.Index, id advisory.Identity, info datastore.Info) Result {
	as := advisory.Assess(ix, id)
	return NewResult(&as, info)
}
