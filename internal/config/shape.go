// SPDX-License-Identifier: Apache-2.0

package config

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Bounds on a YAML document, checked before the YAML library sees it: its
// parser needs time and memory that grow faster than linearly with the
// nesting depth (a 64,000-deep file took 6.2 GB and 18 s; a 200 KB file of
// brackets did not finish), and aliases can repeat a node exponentially
// often ("billion laughs"). Routerwatch's own files nest fewer than ten
// levels and hold a few hundred nodes.
const (
	// MaxYAMLBytes bounds a configuration or scenario file.
	MaxYAMLBytes = 1 << 20
	// MaxYAMLDepth bounds the nesting of mappings and sequences.
	MaxYAMLDepth = 64
	// maxYAMLNodes bounds the nodes of a document once every alias is
	// counted as a copy of its anchor.
	maxYAMLNodes = 100_000
)

// ErrYAMLShape reports a document refused for its size, depth or alias
// expansion before it was decoded.
var ErrYAMLShape = errors.New("YAML document refused")

// checkShape refuses data that is too large or nests too deeply, without
// parsing it. The scan over-estimates: it counts every indentation
// level, every "- " and "? " that opens a compact nested block, and every
// "[" or "{" outside comments (even inside quotes; a "]" or "}" closes one
// only outside quotes), so a document it passes nests at most
// MaxYAMLDepth levels, whatever the parser makes of it.
func checkShape(data []byte) error {
	if len(data) > MaxYAMLBytes {
		return fmt.Errorf("%w: %d bytes, above the limit of %d", ErrYAMLShape, len(data), MaxYAMLBytes)
	}
	var (
		indents     []int // block indentation levels open
		flow        int   // open [ and { (flow collections)
		quote       byte  // the quote of an open quoted scalar, or 0
		blockScalar = -1  // indentation of the line that opened a | or > scalar, or -1
	)
	for lineNo, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		rest := line[indent:]
		blank := len(bytes.TrimSpace(rest)) == 0
		if blockScalar >= 0 {
			if blank || indent > blockScalar {
				continue // content of a literal or folded scalar
			}
			blockScalar = -1
		}
		depth := 0
		if flow == 0 && quote == 0 {
			if blank || rest[0] == '#' {
				continue
			}
			if isDocumentMarker(line) {
				indents = indents[:0]
				continue
			}
			for len(indents) > 0 && indents[len(indents)-1] >= indent {
				indents = indents[:len(indents)-1]
			}
			indents = append(indents, indent)
			depth = len(indents)
			// "- - - x" and "? - x" open a nested block per indicator.
			for len(rest) >= 2 && (rest[0] == '-' || rest[0] == '?') && (rest[1] == ' ' || rest[1] == '\t') {
				depth++
				rest = bytes.TrimLeft(rest[1:], " \t")
			}
			if depth > MaxYAMLDepth {
				return fmt.Errorf("%w: line %d nests more than %d levels deep", ErrYAMLShape, lineNo+1, MaxYAMLDepth)
			}
			if opensBlockScalar(rest) {
				blockScalar = indent
			}
		}
		prev := byte(' ')
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			switch {
			case quote == '"':
				if c == '\\' {
					i++
				} else if c == '"' {
					quote = 0
				}
			case quote == '\'':
				if c == '\'' {
					if i+1 < len(rest) && rest[i+1] == '\'' {
						i++
					} else {
						quote = 0
					}
				}
			case c == '#' && (prev == ' ' || prev == '\t'):
				i = len(rest) // a comment runs to the end of the line
			case (c == '"' || c == '\'') && (prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' || prev == ':'):
				quote = c
			case c == ']' || c == '}':
				if flow > 0 {
					flow--
				}
			}
			if c == '[' || c == '{' {
				flow++ // counted inside quotes too: an over-estimate is safe
				if depth+flow > MaxYAMLDepth {
					return fmt.Errorf("%w: line %d nests more than %d levels deep", ErrYAMLShape, lineNo+1, MaxYAMLDepth)
				}
			}
			prev = c
		}
	}
	return nil
}

func isDocumentMarker(line []byte) bool {
	return (bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))) &&
		(len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

// opensBlockScalar reports whether a line's value is a literal or folded
// scalar indicator ("key: |", "- >-", "key: &a |2"), whose content lines
// are text, not structure.
func opensBlockScalar(rest []byte) bool {
	if i := bytes.Index(rest, []byte(": ")); i >= 0 && !bytes.ContainsAny(rest[:i], `"'[{`) {
		rest = rest[i+2:]
	}
	if i := bytes.Index(rest, []byte(" #")); i >= 0 {
		rest = rest[:i]
	}
	fields := bytes.Fields(rest)
	for len(fields) > 1 && (fields[0][0] == '&' || fields[0][0] == '!') {
		fields = fields[1:] // an anchor or a tag before the indicator
	}
	if len(fields) != 1 || (fields[0][0] != '|' && fields[0][0] != '>') {
		return false
	}
	for _, c := range fields[0][1:] {
		if c != '+' && c != '-' && (c < '1' || c > '9') {
			return false
		}
	}
	return true
}

// checkDocuments parses data (already bounded by checkShape) and refuses
// a second document, naming the line where it starts, and a document
// whose aliases would expand it beyond maxYAMLNodes.
func checkDocuments(data []byte) error {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil // the decoder reports syntax errors with their position
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) > 1 {
		line := 0
		if tk := docs[1].Start; tk != nil && tk.Position != nil {
			line = tk.Position.Line
		} else if tk := docs[1].Body.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return fmt.Errorf("%w: a second YAML document starts at line %d; the file must hold one", ErrYAMLShape, line)
	}
	if len(docs) == 1 {
		if n := expandedNodes(docs[0].Body); n > maxYAMLNodes {
			return fmt.Errorf("%w: its aliases expand it to more than %d nodes", ErrYAMLShape, maxYAMLNodes)
		}
	}
	return nil
}

// expandedNodes counts the nodes under root with every alias counted as
// a copy of its anchor's node, stopping once the count passes the limit.
func expandedNodes(root ast.Node) int {
	anchors := map[string]int{} // anchor name → expanded size of its node
	var count func(n ast.Node) int
	count = func(n ast.Node) int {
		if n == nil {
			return 0
		}
		switch v := n.(type) {
		case *ast.AnchorNode:
			size := count(v.Value)
			if v.Name != nil {
				anchors[v.Name.GetToken().Value] = size
			}
			return size
		case *ast.AliasNode:
			if v.Value != nil {
				return anchors[v.Value.GetToken().Value]
			}
			return 1
		case *ast.MappingNode:
			total := 1
			for _, kv := range v.Values {
				total += count(kv)
				if total > maxYAMLNodes {
					return total
				}
			}
			return total
		case *ast.MappingValueNode:
			return 1 + count(v.Key) + count(v.Value)
		case *ast.SequenceNode:
			total := 1
			for _, e := range v.Values {
				total += count(e)
				if total > maxYAMLNodes {
					return total
				}
			}
			return total
		case *ast.TagNode:
			return count(v.Value)
		case *ast.DocumentNode:
			return count(v.Body)
		}
		return 1
	}
	return count(root)
}
