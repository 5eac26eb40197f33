// SPDX-License-Identifier: Apache-2.0

package datastore_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// benchIndex loads the built-in data, the KEV snapshot and every CSAF
// example and CISA advisory from ../shared, as the benchmark asks.
func benchIndex(b *testing.B) *advisory.Index {
	b.Helper()
	shared := testutil.SharedData(b)
	s := datastore.New(b.TempDir())
	var items []datastore.Item
	var files []string
	for _, pat := range []string{"csaf/csaf_2.0/examples/csaf/*.json", "csaf/csaf_2.0/examples/csaf/csaf_vex/*.json", "csaf/cisa/*.json", "kev/*.json"} {
		m, _ := filepath.Glob(filepath.Join(shared, pat))
		files = append(files, m...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		p, err := datastore.Parse(data, f)
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		items = append(items, p.Item)
	}
	if _, err := s.Put(items, nil); err != nil {
		b.Fatal(err)
	}
	ds, info, err := datastore.Open(s)
	if err != nil || info.Fallback != "" {
		b.Fatalf("open: %v %s", err, info.Fallback)
	}
	return advisory.NewIndex(ds)
}

// identities makes n identities: mostly models the data names, with
// hardware revisions, regions and firmware builds in every vendor format,
// plus models no advisory names.
func identities(ix *advisory.Index, n int) []advisory.Identity {
	r := rand.New(rand.NewPCG(1, 2))
	models := ix.Models()
	fws := []string{"", "3.16.9 Build 200409 Rel.52498n", "V12_230317", "240926", "Archer C7(EU)_V2_241108",
		"0.9.1 4.19 Build 260303 Rel.42399n", "1.1.3 Build 20220926", "6.49.6", "7.16 (stable)", "5.4", "garbage"}
	regions := []string{"", "", "EU", "US", "MS"}
	out := make([]advisory.Identity, n)
	for i := range out {
		id := advisory.Identity{Firmware: fws[r.IntN(len(fws))], Region: regions[r.IntN(len(regions))]}
		if r.IntN(10) == 0 {
			id.Model = fmt.Sprintf("UNKNOWN-%d", r.IntN(1000))
		} else {
			m := models[r.IntN(len(models))]
			id.Vendor, id.Model = m.Vendor, m.Model
		}
		if r.IntN(4) != 0 {
			id.HWRev = fmt.Sprint(1 + r.IntN(14))
		}
		out[i] = id
	}
	return out
}

// BenchmarkMatch100k matches 100,000 identities per iteration and reports
// the cost per identity: the goal is under 2 µs and 0-2 allocations.
func BenchmarkMatch100k(b *testing.B) {
	ix := benchIndex(b)
	ids := identities(ix, 100_000)
	dst := make([]advisory.Match, 0, 64)
	matched := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range ids {
			dst = ix.Match(dst[:0], ids[i])
			if _, ok := ix.Lifecycle(ids[i]); ok {
				matched++
			}
			matched += len(dst)
		}
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(len(ids))
	b.ReportMetric(per, "ns/identity")
	if matched == 0 {
		b.Fatal("no identity matched anything")
	}
}

// BenchmarkAssess measures the full verdict (grouping, headline, steps),
// which allocates; it is what lookup runs once.
func BenchmarkAssess(b *testing.B) {
	ix := benchIndex(b)
	ids := identities(ix, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		advisory.Assess(ix, ids[i%len(ids)])
		i++
	}
}

// BenchmarkMatchNaive100k is the baseline the index is judged against in
// the same run: a linear scan over every product of every advisory,
// normalising names on the fly, as a straightforward matcher would. It
// only finds the candidate products (no version evaluation), so the ratio
// understates the index's advantage.
func BenchmarkMatchNaive100k(b *testing.B) {
	ix := benchIndex(b)
	ids := identities(ix, 100_000)
	advs := ix.Advisories()
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range ids {
			key := advisory.ModelKey(ids[i].Model)
			for a := range advs {
				for p := range advs[a].Products {
					if advisory.ModelKey(advs[a].Products[p].Model) == key {
						found++
					}
				}
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ids)), "ns/identity")
	if found == 0 {
		b.Fatal("baseline found nothing")
	}
}
