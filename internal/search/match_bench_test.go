package search_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/search"
	"github.com/kandidat/kandidat/internal/synth"
)

// BenchmarkMatch100k times what matching a position asks of the index in
// a company of 100,000 candidates (the corpus of BenchmarkSearch100k):
// the OR of a position's title and up to 20 words of its description,
// ranked, restricted by a condition looked up per matching candidate (as
// recruit's visibility and basis are), the best 50; then which of the
// terms each of those 50 holds (TermsOf, one statement). It reports
// the p50 and p95 of both, for 50 synthetic positions in five languages.
// Building the index takes a minute or more; run with -benchtime=1x:
//
//	go test -run '^$' -bench Match100k -benchtime 1x ./internal/search/
func BenchmarkMatch100k(b *testing.B) {
	sizes := []int{benchCandidates}
	for range 9 {
		sizes = append(sizes, 1000)
	}
	d := dbtest.Open(b)
	c := buildCorpus(b, d, sizes, 0)
	x := search.NewIndex(d.Engine)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	var positions [][]string
	for i := range 50 {
		p := synth.Position(r, []string{"en", "sv", "nb", "cs", "sk"}[i%5])
		terms := search.Terms(p.Title)
		for _, t := range search.Terms(p.Description) {
			if len(terms) < 22 && utf8.RuneCountInString(t) > 3 && !slices.Contains(terms, t) {
				terms = append(terms, t)
			}
		}
		positions = append(positions, terms)
	}
	// A lookup per candidate the engine matches, as recruit's visibility
	// and processing basis are.
	where := func(col string, arg func(any) string) string {
		return `EXISTS (SELECT 1 FROM candidates vc WHERE vc.tenant_id = $1 AND vc.id = ` + col + `)`
	}
	var rank, explain []time.Duration
	hits := 0
	for i := 0; i < max(b.N, 100); i++ {
		terms := positions[i%len(positions)]
		err := d.ReadTx(ctx, c.tenant, func(tx *sql.Tx) error {
			t0 := time.Now()
			found, err := x.RankedWhere(ctx, tx, c.tenant, search.AnyOf(terms), 50, where)
			if err != nil {
				return err
			}
			rank = append(rank, time.Since(t0))
			hits += len(found)
			ids := make([]string, len(found))
			for j, h := range found {
				ids[j] = h.CandidateID
			}
			t0 = time.Now()
			if _, err := x.TermsOf(ctx, tx, c.tenant, terms, ids); err != nil {
				return err
			}
			explain = append(explain, time.Since(t0))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if hits == 0 {
		b.Fatal("no position matched anyone")
	}
	for _, m := range []struct {
		name  string
		times []time.Duration
	}{{"rank", rank}, {"explain", explain}} {
		slices.Sort(m.times)
		b.ReportMetric(float64(m.times[len(m.times)/2].Microseconds()), m.name+"-p50-µs")
		b.ReportMetric(float64(m.times[len(m.times)*95/100].Microseconds()), m.name+"-p95-µs")
	}
}
