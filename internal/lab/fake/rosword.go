// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The RouterOS API's framing (CONFIGS.md §3.1): a sentence is a sequence of
// words ended by a zero-length word; each word is its length, encoded in 1
// to 5 bytes, then its bytes. Lengths, big-endian:
//
//	< 0x80        1 byte   len
//	< 0x4000      2 bytes  len | 0x8000
//	< 0x200000    3 bytes  len | 0xC00000
//	< 0x10000000  4 bytes  len | 0xE0000000
//	otherwise     5 bytes  0xF0, then len in 4 bytes
//
// A first byte of 0xF8 or more is a control byte (reserved). This is the
// lab's own small codec, independent of routerwatch's device adapters, so
// that each keeps the other honest.

// Bounds of what the codec reads: RouterOS words are short (a command, an
// attribute, a script at most), sentences a few dozen words.
const (
	MaxWordLen       = 64 << 10
	MaxSentenceWords = 1024
)

// Errors of ReadSentence besides the reader's.
var (
	// ErrControlByte: a length starts with a reserved control byte.
	ErrControlByte = errors.New("routeros api: control byte")
	// ErrWordTooLong: a word is longer than MaxWordLen.
	ErrWordTooLong = errors.New("routeros api: word too long")
	// ErrTooManyWords: a sentence has more than MaxSentenceWords words.
	ErrTooManyWords = errors.New("routeros api: too many words in a sentence")
)

// AppendLength appends the encoding of n (0 ≤ n < 2^32).
func AppendLength(b []byte, n uint32) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x4000:
		n |= 0x8000
		return append(b, byte(n>>8), byte(n))
	case n < 0x200000:
		n |= 0xC00000
		return append(b, byte(n>>16), byte(n>>8), byte(n))
	case n < 0x10000000:
		n |= 0xE0000000
		return append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, 0xF0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// EncodeSentence returns words as one sentence, its terminating empty word
// included.
func EncodeSentence(words ...string) []byte {
	var b []byte
	for _, w := range words {
		b = AppendLength(b, uint32(len(w)))
		b = append(b, w...)
	}
	return append(b, 0)
}

// ReadLength reads one encoded length.
func ReadLength(r io.ByteReader) (uint32, error) {
	b0, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	var extra int
	var n uint32
	switch {
	case b0 < 0x80:
		return uint32(b0), nil
	case b0 < 0xC0:
		extra, n = 1, uint32(b0&0x3F)
	case b0 < 0xE0:
		extra, n = 2, uint32(b0&0x1F)
	case b0 < 0xF0:
		extra, n = 3, uint32(b0&0x0F)
	case b0 == 0xF0:
		extra = 4
	default:
		return 0, fmt.Errorf("%w 0x%02x", ErrControlByte, b0)
	}
	for range extra {
		b, err := r.ReadByte()
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		n = n<<8 | uint32(b)
	}
	return n, nil
}

// ReadSentence reads one sentence and returns its words (without the
// terminating empty word). io.EOF means the stream ended cleanly before a
// sentence started; an end inside one is io.ErrUnexpectedEOF.
func ReadSentence(r *bufio.Reader) ([]string, error) {
	var words []string
	for {
		n, err := ReadLength(r)
		if err != nil {
			if len(words) > 0 {
				err = unexpectedEOF(err)
			}
			return nil, err
		}
		if n == 0 {
			return words, nil
		}
		if n > MaxWordLen {
			return nil, fmt.Errorf("%w: %d bytes", ErrWordTooLong, n)
		}
		if len(words) == MaxSentenceWords {
			return nil, ErrTooManyWords
		}
		w := make([]byte, n)
		if _, err := io.ReadFull(r, w); err != nil {
			return nil, unexpectedEOF(err)
		}
		words = append(words, string(w))
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
