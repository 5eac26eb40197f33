// SPDX-License-Identifier: Apache-2.0

package strictjson_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/routerwatch/routerwatch/internal/strictjson"
)

type doc struct {
	Name  string `json:"name"`
	Items []int  `json:"items"`
}

func TestDecode(t *testing.T) {
	const limit = 64
	for _, tt := range []struct {
		name    string
		in      string
		wantErr error // nil: must succeed; errAny: any error
		want    doc
	}{
		{name: "one object", in: `{"name":"a","items":[1,2]}`, want: doc{Name: "a", Items: []int{1, 2}}},
		{name: "white space around", in: " \n\t{\"name\":\"a\"}\r\n ", want: doc{Name: "a"}},
		{name: "exactly the limit", in: `{"name":"` + strings.Repeat("x", limit-11) + `"}`, want: doc{Name: strings.Repeat("x", limit-11)}},
		{name: "unknown field", in: `{"name":"a","adress":"192.0.2.1"}`, wantErr: errAny},
		{name: "unknown nested field", in: `{"items":[1],"extra":{"x":1}}`, wantErr: errAny},
		{name: "second value", in: `{"name":"a"} {"name":"b"}`, wantErr: strictjson.ErrTrailingData},
		{name: "trailing garbage", in: `{"name":"a"} x`, wantErr: strictjson.ErrTrailingData},
		// encoding/json's More reports a stray closer as "no more
		// values": lab/fake's own decoder accepted these.
		{name: "trailing close bracket", in: `{"name":"a"}]`, wantErr: strictjson.ErrTrailingData},
		{name: "trailing close brace", in: `{"name":"a"}}`, wantErr: strictjson.ErrTrailingData},
		{name: "trailing comma", in: `{"name":"a"},`, wantErr: strictjson.ErrTrailingData},
		{name: "empty", in: "", wantErr: strictjson.ErrEmpty},
		{name: "only white space", in: " \n", wantErr: strictjson.ErrEmpty},
		{name: "truncated", in: `{"name":"a"`, wantErr: errAny},
		{name: "wrong type", in: `{"name":1}`, wantErr: errAny},
		{name: "one byte over the limit", in: `{"name":"` + strings.Repeat("x", limit-10) + `"}`, wantErr: strictjson.ErrTooLarge},
		{name: "valid value, then white space past the limit", in: `{"name":"a"}` + strings.Repeat(" ", limit), wantErr: strictjson.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := strictjson.Decode(strings.NewReader(tt.in), limit, &got)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Decode(%q) = %v, want success", tt.in, err)
			case tt.wantErr == nil:
				if got.Name != tt.want.Name || len(got.Items) != len(tt.want.Items) {
					t.Errorf("Decode(%q) = %+v, want %+v", tt.in, got, tt.want)
				}
			case err == nil:
				t.Fatalf("Decode(%q) succeeded, want an error", tt.in)
			case tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("Decode(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestDecodeEndless: an endless reader is cut at the limit, not read to
// the end of memory.
func TestDecodeEndless(t *testing.T) {
	endless := io.MultiReader(strings.NewReader(`{"name":"`), iotest.OneByteReader(repeatReader('x')))
	var d doc
	if err := strictjson.Decode(endless, 1<<16, &d); !errors.Is(err, strictjson.ErrTooLarge) {
		t.Errorf("Decode(endless) = %v, want ErrTooLarge", err)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	var d doc
	if err := strictjson.Decode(io.MultiReader(strings.NewReader(`{"name":"a"} `), iotest.ErrReader(boom)), 64, &d); !errors.Is(err, boom) {
		t.Errorf("Decode with a failing reader after the value = %v, want boom", err)
	}
	if err := strictjson.Decode(iotest.ErrReader(boom), 64, &d); !errors.Is(err, boom) {
		t.Errorf("Decode with a failing reader = %v, want boom", err)
	}
}

func TestDecodeBadLimit(t *testing.T) {
	var d doc
	if err := strictjson.Decode(strings.NewReader(`{}`), 0, &d); err == nil {
		t.Error("Decode with limit 0 succeeded")
	}
}

// FuzzDecode: no input panics, and an accepted input is one value that
// re-decodes the same.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","items":[1]}`, `{}]`, `{} {}`, ``, `{"x":1}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d doc
		if err := strictjson.Decode(strings.NewReader(in), 1<<12, &d); err != nil {
			return
		}
		var again doc
		if err := strictjson.Decode(strings.NewReader(strings.TrimSpace(in)), 1<<12, &again); err != nil {
			t.Fatalf("accepted %q but not once trimmed: %v", in, err)
		}
	})
}
