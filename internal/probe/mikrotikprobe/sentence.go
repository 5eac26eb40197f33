// SPDX-License-Identifier: Apache-2.0

package mikrotikprobe

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// The RouterOS API frames words with a length prefix (brief/CONFIGS.md
// §3.1): below 0x80 one byte; below 0x4000 two bytes with 0x8000 set;
// below 0x200000 three with 0xC00000; below 0x10000000 four with
// 0xE0000000; else 0xF0 and four bytes. A first byte of 0xF8 or more is a
// control byte. A sentence ends with a zero-length word.

// EncodeSentence frames words as one sentence.
func EncodeSentence(words ...string) []byte {
	var b []byte
	for _, w := range words {
		b = appendLength(b, len(w))
		b = append(b, w...)
	}
	return append(b, 0)
}

func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x4000:
		return append(b, byte(n>>8)|0x80, byte(n))
	case n < 0x200000:
		return append(b, byte(n>>16)|0xC0, byte(n>>8), byte(n))
	case n < 0x10000000:
		return append(b, byte(n>>24)|0xE0, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0xF0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// errNotAPI wraps probe.ErrProtocol for framing that cannot be the API.
var errNotAPI = fmt.Errorf("not RouterOS API framing: %w", probe.ErrProtocol)

// ReadSentence reads one sentence of at most maxWords words and maxBytes
// bytes in all. Sample (the answer to "/quit"):
//
//	06 "!fatal" 1d "session terminated on request" 00
//
// A longer sentence or a word longer than what is left is refused with
// an error wrapping probe.ErrProtocol; invalid UTF-8 is made valid.
func ReadSentence(r io.Reader, maxWords, maxBytes int) ([]string, error) {
	br := bufio.NewReaderSize(r, 256)
	var words []string
	left := maxBytes
	for {
		n, err := readLength(br)
		if err != nil {
			if errors.Is(err, io.EOF) && len(words) > 0 {
				return words, fmt.Errorf("sentence cut by close: %w", probe.ErrProtocol)
			}
			return words, err
		}
		if n == 0 {
			return words, nil
		}
		if len(words) == maxWords || n > left {
			return words, fmt.Errorf("sentence longer than %d words or %d bytes: %w", maxWords, maxBytes, errNotAPI)
		}
		left -= n
		w := make([]byte, n)
		if _, err := io.ReadFull(br, w); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return words, fmt.Errorf("word cut by close: %w", probe.ErrProtocol)
			}
			return words, err
		}
		words = append(words, probe.Text(w, n))
	}
}

func readLength(br *bufio.Reader) (int, error) {
	c, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	var extra int
	n := int(c)
	switch {
	case c < 0x80:
		return n, nil
	case c&0xC0 == 0x80:
		n, extra = n&0x3F, 1
	case c&0xE0 == 0xC0:
		n, extra = n&0x1F, 2
	case c&0xF0 == 0xE0:
		n, extra = n&0x0F, 3
	case c == 0xF0:
		n, extra = 0, 4
	default:
		return 0, fmt.Errorf("control byte %#x: %w", c, errNotAPI)
	}
	for range extra {
		b, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("length cut by close: %w", probe.ErrProtocol)
			}
			return 0, err
		}
		n = n<<8 | int(b)
	}
	return n, nil
}
