package search_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/search"
	"github.com/kandidat/kandidat/internal/synth"
)

// benchCandidates is the size of the company the search benchmarks search:
// the scale the issue names (100,000 candidates), each with a name, email,
// phone, the title of the position applied to, and, for one in three, the
// text of a CV in their own language (synthetic, as `kandidat seed` writes).
const benchCandidates = 100_000

// BenchmarkSearch100k times queries on one company of 100,000 candidates
// beside nine small ones, on the engine under test, and reports the p50
// and p95 of each (a query is the ranked first page, 50 hits). Building
// the index takes a minute; run with -benchtime=1x:
//
//	go test -run '^$' -bench Search100k -benchtime 1x ./internal/search/
func BenchmarkSearch100k(b *testing.B) {
	d := dbtest.Open(b)
	ctx := context.Background()
	x := search.NewIndex(d.Engine)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var surnames, cvWords []string
	tenants := []string{"big"}
	for i := range 9 {
		tenants = append(tenants, fmt.Sprintf("small%d", i))
	}
	if err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		for _, t := range tenants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $1, $1, 'en', $2, $2)`, t, db.Now()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for n < benchCandidates+9*1000 {
		err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			for range 1000 {
				tenant := "big"
				if n >= benchCandidates {
					tenant = tenants[1+(n-benchCandidates)/1000]
				}
				p := synth.NewPerson(r, synth.Countries[r.IntN(len(synth.Countries))])
				title := synth.Position(r, p.Language).Title
				id := fmt.Sprintf("c%06d", n)
				if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (tenant_id, id, name, email, created_at, updated_at) VALUES ($1, $2, $3, $2, $4, $4)`,
					tenant, id, p.Name, db.Now()); err != nil {
					return err
				}
				e := search.Entry{Name: []string{p.Name, synth.EmailLocal(p) + "@example.org", p.Phone}, Tags: []string{title}}
				if n%3 == 0 {
					cv := synth.CV(r, p, title)
					e.Documents = []string{strings.Join(cv, "\n")}
					if tenant == "big" && len(cvWords) < 200 {
						if ws := search.Terms(cv[len(cv)/2]); len(ws) >= 2 {
							cvWords = append(cvWords, ws[0]+" "+ws[len(ws)-1])
						}
					}
				}
				if tenant == "big" && len(surnames) < 200 {
					surnames = append(surnames, p.FamilyName)
				}
				if err := x.Put(ctx, tx, tenant, id, e); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d candidates in %s on %s", n, time.Since(start).Round(time.Second), d.Engine)
	// The planner's statistics, as autovacuum (PostgreSQL) or the optimize
	// job (SQLite) keep them after a load.
	if err := d.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct {
		name    string
		queries []string
	}{
		{"surname", surnames},
		{"surname_prefix", prefixes(surnames)},
		{"two_cv_words", cvWords},
		{"phrase_or_exclusion", []string{`"software developer" -java`, "python OR golang", "stockholm -oslo"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			var times []time.Duration
			for i := 0; i < max(b.N, 200); i++ {
				parsed, err := search.Parse(q.queries[i%len(q.queries)])
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := d.ReadTx(ctx, "big", func(tx *sql.Tx) error {
					_, err := x.Ranked(ctx, tx, "big", parsed, 50)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds()), "p95-µs")
		})
	}
}

// prefixes are the first three letters of each word, as typed.
func prefixes(words []string) []string {
	var out []string
	for _, w := range words {
		if rs := []rune(w); len(rs) >= 3 {
			out = append(out, string(rs[:3])+"*")
		}
	}
	return out
}
