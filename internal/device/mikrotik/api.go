// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// API limits. Settings menus answer in a few kilobytes; the largest
// print routerwatch sends (firewall rules) has hundreds of rows. A device
// that sends more is broken or hostile.
const (
	maxWordBytes     = 64 << 10
	maxSentenceWords = 1024
	maxSentenceBytes = 1 << 20
	maxReplyRows     = 20_000
)

var (
	// errProtocol: the peer broke the API's framing.
	errProtocol = errors.New("routeros api: protocol error")
	// errReserved: a length's first byte was 0xF8 or above, reserved
	// for control bytes, which a RouterOS reply never uses.
	errReserved = errors.New("routeros api: reserved control byte")
)

// appendLength encodes a word length (help.mikrotik.com "API": one to
// five bytes, big-endian, the high bits of the first byte saying how
// many).
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

// encodeSentence encodes words and the empty word that ends a sentence.
func encodeSentence(words ...string) []byte {
	var b []byte
	for _, w := range words {
		b = appendLength(b, len(w))
		b = append(b, w...)
	}
	return append(b, 0)
}

// readLength decodes one word length.
func readLength(r *bufio.Reader) (int, error) {
	c, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	var extra int
	n := int(c)
	switch {
	case c < 0x80:
		return n, nil
	case c < 0xC0:
		n, extra = n&0x3F, 1
	case c < 0xE0:
		n, extra = n&0x1F, 2
	case c < 0xF0:
		n, extra = n&0x0F, 3
	case c == 0xF0:
		n, extra = 0, 4
	case c >= 0xF8:
		return 0, fmt.Errorf("%w %#x", errReserved, c)
	default:
		return 0, fmt.Errorf("length byte %#x: %w", c, errProtocol)
	}
	for range extra {
		b, err := r.ReadByte()
		if err != nil {
			return 0, cut(err, "length")
		}
		n = n<<8 | int(b)
	}
	return n, nil
}

// cut turns an EOF inside a word or sentence into a protocol error.
func cut(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s cut by the connection closing: %w", what, errProtocol)
	}
	return err
}

// readSentence reads one sentence (its words without the ending empty
// word). A clean EOF before its first byte is io.EOF.
func readSentence(r *bufio.Reader) ([]string, error) {
	var words []string
	total := 0
	for {
		n, err := readLength(r)
		if err != nil {
			if len(words) > 0 || !errors.Is(err, io.EOF) {
				return nil, cut(err, "sentence")
			}
			return nil, err
		}
		if n == 0 {
			if len(words) == 0 {
				// RouterOS never sends an empty sentence; skip it
				// rather than fail (a keep-alive would look so).
				continue
			}
			return words, nil
		}
		if n > maxWordBytes {
			return nil, fmt.Errorf("word of %d bytes (limit %d): %w", n, maxWordBytes, errProtocol)
		}
		total += n
		if total > maxSentenceBytes || len(words) >= maxSentenceWords {
			return nil, fmt.Errorf("sentence over %d words or %d bytes: %w", maxSentenceWords, maxSentenceBytes, errProtocol)
		}
		w := make([]byte, n)
		if _, err := io.ReadFull(r, w); err != nil {
			return nil, cut(err, "word")
		}
		words = append(words, string(w))
	}
}

// sentence is a decoded reply sentence.
type sentence struct {
	// kind is "!re", "!done", "!trap", "!fatal" or "!empty".
	kind  string
	tag   string
	attrs map[string]string
	// fatal is the message of a !fatal, whose second word is the bare
	// reason ("not logged in"), not an attribute.
	fatal string
}

// parseSentence reads a reply sentence's words.
func parseSentence(words []string) (sentence, error) {
	if len(words) == 0 || !strings.HasPrefix(words[0], "!") {
		first := ""
		if len(words) > 0 {
			first = words[0]
		}
		if len(first) > 32 {
			first = first[:32]
		}
		return sentence{}, fmt.Errorf("reply starts with %q, not a reply word: %w", first, errProtocol)
	}
	s := sentence{kind: words[0], attrs: map[string]string{}}
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, ".tag="):
			s.tag = w[len(".tag="):]
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			s.attrs[k] = v
		case s.kind == "!fatal" && s.fatal == "":
			s.fatal = w
		}
	}
	if s.kind == "!fatal" && s.fatal == "" {
		s.fatal = s.attrs["message"]
	}
	return s, nil
}
