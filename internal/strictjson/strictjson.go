// SPDX-License-Identifier: Apache-2.0

// Package strictjson decodes the JSON files routerwatch itself defines
// (the DNS indicator and canary lists, the lab fakes' configurations),
// where a field the program does not know is a mistake to report, not
// something to skip: a misspelt "adress" silently ignored would drop an
// indicator.
//
// The contract of Decode:
//   - the input holds exactly one JSON value, with only white space
//     around it: nothing at all, a second value or any other trailing
//     bytes (even a stray "]" or "}") are errors;
//   - an object field that the destination does not declare is an error;
//   - at most limit bytes are read: longer input is ErrTooLarge, whatever
//     it holds, so a huge or endless reader cannot exhaust memory.
//
// Formats routerwatch does not own (CVE records, CSAF, the KEV catalog)
// grow fields over time and are read by their loaders, not here.
//
// The package imports the standard library only, so that any package,
// the lowest included, may use it.
package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Errors Decode returns besides encoding/json's syntax and type errors.
var (
	// ErrTooLarge: the input is longer than the limit.
	ErrTooLarge = errors.New("input larger than the limit")
	// ErrTrailingData: something other than white space follows the value.
	ErrTrailingData = errors.New("trailing data after the JSON value")
	// ErrEmpty: the input holds no JSON value.
	ErrEmpty = errors.New("no JSON value")
)

// Decode reads exactly one JSON value of at most limit bytes from r into
// v, refusing unknown object fields and trailing data (see the package
// contract). limit must be positive.
func Decode(r io.Reader, limit int64, v any) error {
	if limit <= 0 {
		return fmt.Errorf("strictjson: limit %d is not positive", limit)
	}
	// One byte past the limit tells "exactly limit bytes" from "more".
	lr := &io.LimitedReader{R: r, N: limit + 1}
	over := func() bool { return lr.N <= 0 }
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		switch {
		case over():
			// The value was cut at the limit; the syntax error says
			// nothing about the input.
			return fmt.Errorf("strictjson: %w (%d bytes)", ErrTooLarge, limit)
		case errors.Is(err, io.EOF):
			return fmt.Errorf("strictjson: %w", ErrEmpty)
		}
		return fmt.Errorf("strictjson: %w", err)
	}
	// Token, unlike More, reports a stray closing "]" or "}" as an
	// error rather than as the end of the input.
	_, err := dec.Token()
	var syntax *json.SyntaxError
	switch {
	case over():
		return fmt.Errorf("strictjson: %w (%d bytes)", ErrTooLarge, limit)
	case errors.Is(err, io.EOF):
		return nil
	case err == nil || errors.As(err, &syntax):
		return fmt.Errorf("strictjson: %w", ErrTrailingData)
	}
	return fmt.Errorf("strictjson: %w", err) // reading failed
}
