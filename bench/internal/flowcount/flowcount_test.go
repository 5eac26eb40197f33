// SPDX-License-Identifier: Apache-2.0

package flowcount

import "testing"

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{3}, 3},
		{"odd_unsorted", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.xs...)
			if got := Median(tc.xs); got != tc.want {
				t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.xs[i] {
					t.Errorf("Median reordered its input: %v", tc.xs)
				}
			}
		})
	}
}

func TestPacketsLine(t *testing.T) {
	m := packetsRE.FindSubmatch([]byte("table inet rwcount {\n\tcounter flows_syn {\n\t\tpackets 1920 bytes 115200\n\t}\n}\n"))
	if m == nil || string(m[1]) != "1920" {
		t.Errorf("packets not read: %q", m)
	}
}
