// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device/mikrotik/mikrotiktest"
)

func TestLengthEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want []byte
	}{
		{"zero", 0, []byte{0x00}},
		{"one_byte_max", 0x7F, []byte{0x7F}},
		{"two_bytes_min", 0x80, []byte{0x80, 0x80}},
		{"two_bytes_max", 0x3FFF, []byte{0xBF, 0xFF}},
		{"three_bytes_min", 0x4000, []byte{0xC0, 0x40, 0x00}},
		{"three_bytes_max", 0x1FFFFF, []byte{0xDF, 0xFF, 0xFF}},
		{"four_bytes_min", 0x200000, []byte{0xE0, 0x20, 0x00, 0x00}},
		{"four_bytes_max", 0xFFFFFFF, []byte{0xEF, 0xFF, 0xFF, 0xFF}},
		{"five_bytes", 0x10000000, []byte{0xF0, 0x10, 0x00, 0x00, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := appendLength(nil, tc.n)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("appendLength(%#x) = % x, want % x", tc.n, got, tc.want)
			}
			n, err := readLength(bufio.NewReader(bytes.NewReader(got)))
			if err != nil || n != tc.n {
				t.Errorf("readLength = %#x, %v; want %#x", n, err, tc.n)
			}
		})
	}
}

// TestSentenceAgainstFake checks the client's encoder and decoder
// against the fake's, written apart.
func TestSentenceAgainstFake(t *testing.T) {
	words := []string{"!re", "=.id=*1", "=comment=" + strings.Repeat("x", 200), "=note=" + strings.Repeat("y", 0x4001), ".tag=7"}
	if got, want := encodeSentence(words...), mikrotiktest.EncodeSentence(words...); !bytes.Equal(got, want) {
		t.Fatal("client and fake encode differently")
	}
	got, err := readSentence(bufio.NewReader(bytes.NewReader(mikrotiktest.EncodeSentence(words...))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(words, got); diff != "" {
		t.Error(diff)
	}
}

func TestReadSentenceErrors(t *testing.T) {
	many := bytes.Repeat([]byte{1, 'a'}, maxSentenceWords+1)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"clean_eof", nil, io.EOF},
		{"reserved_f8", []byte{0xF8}, errReserved},
		{"reserved_ff", []byte{0xFF, 0x00}, errReserved},
		{"invalid_f1", []byte{0xF1, 0, 0, 0, 1}, errProtocol},
		{"length_cut", []byte{0x81}, errProtocol},
		{"word_cut", []byte{0x05, 'a', 'b'}, errProtocol},
		{"sentence_cut", []byte{0x03, '!', 'r', 'e'}, errProtocol},
		{"word_too_long", []byte{0xC1, 0x00, 0x01}, errProtocol},
		{"huge_five_byte_length", []byte{0xF0, 0xFF, 0xFF, 0xFF, 0xFF}, errProtocol},
		{"too_many_words", many, errProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readSentence(bufio.NewReader(bytes.NewReader(tc.in)))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseSentence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []string
		want  sentence
		err   bool
	}{
		{"re_with_equals_in_value", []string{"!re", "=.id=*1", "=comment=a=b", ".tag=3"},
			sentence{kind: "!re", tag: "3", attrs: map[string]string{".id": "*1", "comment": "a=b"}}, false},
		{"fatal_bare_reason", []string{"!fatal", "session terminated on request"},
			sentence{kind: "!fatal", attrs: map[string]string{}, fatal: "session terminated on request"}, false},
		{"fatal_message_attr", []string{"!fatal", "=message=too many sessions"},
			sentence{kind: "!fatal", attrs: map[string]string{"message": "too many sessions"}, fatal: "too many sessions"}, false},
		{"not_a_reply", []string{"HTTP/1.1 400 Bad Request"}, sentence{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSentence(tc.words)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(sentence{})); !tc.err && diff != "" {
				t.Error(diff)
			}
		})
	}
}

// FuzzReadSentence feeds the decoder arbitrary bytes: no panic, bounded
// words, and what it decodes encodes back to the same words.
func FuzzReadSentence(f *testing.F) {
	f.Add(mikrotiktest.EncodeSentence("!re", "=.id=*1", "=name=telnet", "=disabled=true", ".tag=1"))
	f.Add(mikrotiktest.EncodeSentence("!done", "=ret=9c3a0b5e1f2d4c6a8e7b9d0f1a2c3e4d"))
	f.Add(mikrotiktest.EncodeSentence("!fatal", "session terminated on request"))
	f.Add(mikrotiktest.EncodeSentence("!trap", "=message=invalid user name or password (6)", ".tag=1"))
	f.Add([]byte{0xF8, 0x00})
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 8 {
			words, err := readSentence(r)
			if err != nil {
				return
			}
			if len(words) == 0 || len(words) > maxSentenceWords {
				t.Fatalf("%d words", len(words))
			}
			total := 0
			for _, w := range words {
				if len(w) == 0 || len(w) > maxWordBytes {
					t.Fatalf("word of %d bytes", len(w))
				}
				total += len(w)
			}
			if total > maxSentenceBytes {
				t.Fatalf("sentence of %d bytes", total)
			}
			again, err := readSentence(bufio.NewReader(bytes.NewReader(encodeSentence(words...))))
			if err != nil || !slices.Equal(words, again) {
				t.Fatalf("round trip: %q -> %q, %v", words, again, err)
			}
			parseSentence(words)
		}
	})
}

// FuzzDecodeRESTRows feeds the REST reply decoder arbitrary bytes: no
// panic, bounded rows.
func FuzzDecodeRESTRows(f *testing.F) {
	f.Add([]byte(`[{".id":"*1","name":"telnet","port":"23","disabled":"true"}]`))
	f.Add([]byte(`{"servers":"192.0.2.1","allow-remote-requests":"true","cache-size":2048,"x":{"y":1}}`))
	f.Add([]byte(`{"error":404,"message":"Not Found"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := decodeRESTRows(b)
		if err != nil {
			return
		}
		if len(rows) > maxReplyRows {
			t.Fatalf("%d rows", len(rows))
		}
	})
}
