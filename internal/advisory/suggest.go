// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"cmp"
	"slices"
	"strings"
)

// Suggest returns up to n known models that look like model, best first:
// models whose key contains the input's key (or the reverse), then models
// within a small edit distance. It is for "did you mean" messages.
func (ix *Index) Suggest(model string, n int) []ModelInfo {
	key := ModelKey(model)
	if key == "" {
		return nil
	}
	type cand struct {
		m     ModelInfo
		score int
	}
	var cs []cand
	for _, m := range ix.models {
		if strings.HasPrefix(m.Key, "@") {
			continue
		}
		switch {
		case len(key) >= 2 && strings.Contains(m.Key, key):
			cs = append(cs, cand{m, len(m.Key) - len(key)})
		case len(m.Key) >= 3 && strings.Contains(key, m.Key):
			cs = append(cs, cand{m, 10 + len(key) - len(m.Key)})
		default:
			limit := max(1, len(key)/4)
			if d := editDistance(key, m.Key, limit); d <= limit {
				cs = append(cs, cand{m, 20 + d})
			}
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return cmp.Compare(a.m.Key, b.m.Key)
	})
	var out []ModelInfo
	for _, c := range cs {
		if len(out) == n {
			break
		}
		out = append(out, c.m)
	}
	return out
}

// editDistance is the Levenshtein distance, or limit+1 once it exceeds
// limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Resolve returns the model the data knows under model's key ("wr841n" →
// TP-Link TL-WR841N; "routeros" → MikroTik RouterOS).
func (ix *Index) Resolve(model string) (ModelInfo, bool) {
	k := ModelKey(model)
	for _, p := range platforms {
		if k == p.osKey {
			k = p.key
		}
	}
	i, ok := slices.BinarySearchFunc(ix.models, k, func(m ModelInfo, k string) int { return cmp.Compare(m.Key, k) })
	if !ok {
		return ModelInfo{}, false
	}
	return ix.models[i], true
}
