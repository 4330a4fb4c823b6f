package search_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/search"
	"github.com/kandidat/kandidat/internal/synth"
)

// benchCandidates is the size of the company the search benchmarks search:
// the scale the issue names (100,000 candidates), each with a name, email,
// phone, city, the title of the position applied to, and, for one in three,
// the text of a CV in their own language (synthetic, as `kandidat seed`
// writes).
const benchCandidates = 100_000

// BenchmarkSearch100k times queries on one company of 100,000 candidates
// beside nine small ones, on the engine under test, and reports the p50
// and p95 of each (a query is the ranked first page, 50 hits). Building
// the index takes a minute; run with -benchtime=1x:
//
//	go test -run '^$' -bench Search100k -benchtime 1x ./internal/search/
func BenchmarkSearch100k(b *testing.B) {
	sizes := []int{benchCandidates}
	for range 9 {
		sizes = append(sizes, 1000)
	}
	d := dbtest.Open(b)
	c := buildCorpus(b, d, sizes, 0)
	timeQueries(b, d, c, []string{"surname", "surname_prefix", "two_cv_words", "phrase_or_exclusion", "city_and_surname", "city_and_cv_word"})
}

// BenchmarkSearchCompanies1M is the installation the issue names: 1,000
// companies of 1,000 candidates (1,000,000 entries), the queries timed on
// the company in the middle, and the size of the index per 100,000
// candidates. KANDIDAT_BENCH_COMPANIES sets fewer (or more) companies of
// 1,000. Building the index takes ten minutes or more:
//
//	go test -run '^$' -bench Companies1M -benchtime 1x -timeout 2h ./internal/search/
func BenchmarkSearchCompanies1M(b *testing.B) {
	companies := 1000
	if v := os.Getenv("KANDIDAT_BENCH_COMPANIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("KANDIDAT_BENCH_COMPANIES=%q: want a positive number", v)
		}
		companies = n
	}
	sizes := make([]int, companies)
	for i := range sizes {
		sizes[i] = 1000
	}
	d := dbtest.Open(b)
	c := buildCorpus(b, d, sizes, companies/2)
	timeQueries(b, d, c, []string{"surname", "two_cv_words", "city_and_surname", "city_and_cv_word"})
}

// benchCorpus is an index built for a benchmark and the queries taken from
// the company to search.
type benchCorpus struct {
	tenant            string // the company searched
	surnames, cvWords []string
	// cities are city filters with a word of the same candidate:
	// "city\x00surname" and "city\x00cv word".
	citySurnames, cityWords []string
	phrases                 []string
}

// buildCorpus writes companies of sizes[i] candidates, each with its index
// entry, 1,000 a transaction, and keeps 200 queries of each kind from the
// company numbered query. It logs the build time and the index's size.
func buildCorpus(b *testing.B, d *db.DB, sizes []int, query int) benchCorpus {
	b.Helper()
	ctx := context.Background()
	x := search.NewIndex(d.Engine)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	tenants := make([]string, len(sizes))
	for i := range sizes {
		tenants[i] = fmt.Sprintf("co%04d", i)
	}
	c := benchCorpus{tenant: tenants[query],
		phrases: []string{`"software developer" -java`, "python OR golang", "stockholm -oslo"}}
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
	sizeBefore := fileBytes(b, d)
	total, n := 0, 0
	for _, s := range sizes {
		total += s
	}
	company, left := 0, sizes[0]
	for n < total {
		err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			for range 1000 {
				if n == total {
					return nil
				}
				for left == 0 {
					company++
					left = sizes[company]
				}
				tenant := tenants[company]
				p := synth.NewPerson(r, synth.Countries[r.IntN(len(synth.Countries))])
				title := synth.Position(r, p.Language).Title
				id := fmt.Sprintf("c%07d", n)
				if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (tenant_id, id, name, email, city, city_folded, created_at, updated_at) VALUES ($1, $2, $3, $2, $4, $5, $6, $6)`,
					tenant, id, p.Name, p.City, search.Fold(p.City), db.Now()); err != nil {
					return err
				}
				e := search.Entry{Name: []string{p.Name, synth.EmailLocal(p) + "@example.org", p.Phone}, Tags: []string{title}}
				searched := company == query
				if n%3 == 0 {
					cv := synth.CV(r, p, title)
					e.Documents = []string{strings.Join(cv, "\n")}
					if searched && len(c.cvWords) < 200 {
						if ws := search.Terms(cv[len(cv)/2]); len(ws) >= 2 {
							c.cvWords = append(c.cvWords, ws[0]+" "+ws[len(ws)-1])
							c.cityWords = append(c.cityWords, p.City+"\x00"+ws[0])
						}
					}
				}
				if searched && len(c.surnames) < 200 {
					c.surnames = append(c.surnames, p.FamilyName)
					c.citySurnames = append(c.citySurnames, p.City+"\x00"+p.FamilyName)
				}
				if err := x.Put(ctx, tx, tenant, id, e); err != nil {
					return err
				}
				n++
				left--
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d candidates in %d companies in %s on %s", n, len(sizes), time.Since(start).Round(time.Second), d.Engine)
	// The planner's statistics, as autovacuum (PostgreSQL) or the optimize
	// job (SQLite) keep them after a load.
	if err := d.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	if bytes, how := indexBytes(b, d, sizeBefore); bytes > 0 {
		b.Logf("index size: %.1f MB, %.1f MB per 100,000 candidates (%s)", float64(bytes)/1e6, float64(bytes)/1e6*100_000/float64(n), how)
	}
	return c
}

// fileBytes is the size of the SQLite database in pages, or 0.
func fileBytes(b *testing.B, d *db.DB) int64 {
	if d.Engine != db.SQLite {
		return 0
	}
	var pages, size int64
	if err := d.Write.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		b.Fatal(err)
	}
	if err := d.Write.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	return pages * size
}

// indexBytes is the size of the index's tables and their indexes: on
// SQLite the pages dbstat counts for FTS5's shadow tables and the rowid
// map (or, without dbstat, how the file grew, candidates included); on
// PostgreSQL pg_total_relation_size of the map and the words.
func indexBytes(b *testing.B, d *db.DB, before int64) (int64, string) {
	ctx := context.Background()
	if d.Engine == db.Postgres {
		var n int64
		if err := d.Write.QueryRowContext(ctx, `SELECT pg_total_relation_size('candidate_search') + pg_total_relation_size('candidate_search_words')`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n, "pg_total_relation_size of candidate_search and candidate_search_words"
	}
	var n sql.NullInt64
	err := d.Write.QueryRowContext(ctx, `SELECT sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name
		WHERE m.tbl_name LIKE 'candidate\_search%' ESCAPE '\' OR m.tbl_name = 'search_tenants'`).Scan(&n)
	if err == nil && n.Valid {
		return n.Int64, "dbstat: candidate_search's FTS5 tables, candidate_search_docs and its indexes, search_tenants"
	}
	if err != nil && !strings.Contains(err.Error(), "dbstat") {
		b.Fatal(err)
	}
	return fileBytes(b, d) - before, "growth of the database file, candidates and their queue rows included (no dbstat)"
}

// timeQueries times each kind of query named, 200 runs or b.N, and
// reports their p50 and p95. The city_ kinds are a field filter with a
// word, as the candidate list runs `city:{city} {word}`: the candidates of
// the city (index candidates_city) whose entry matches the word.
func timeQueries(b *testing.B, d *db.DB, c benchCorpus, kinds []string) {
	ctx := context.Background()
	x := search.NewIndex(d.Engine)
	queries := map[string][]string{
		"surname":             c.surnames,
		"surname_prefix":      prefixes(c.surnames),
		"two_cv_words":        c.cvWords,
		"phrase_or_exclusion": c.phrases,
		"city_and_surname":    c.citySurnames,
		"city_and_cv_word":    c.cityWords,
	}
	for _, kind := range kinds {
		qs := queries[kind]
		if len(qs) == 0 {
			b.Fatalf("%s: no query taken from company %s", kind, c.tenant)
		}
		b.Run(kind, func(b *testing.B) {
			var times, cpu []time.Duration
			hits := 0
			for i := 0; i < max(b.N, 200); i++ {
				q := qs[i%len(qs)]
				city, text, filtered := strings.Cut(q, "\x00")
				if !filtered {
					text = q
				}
				parsed, err := search.Parse(text)
				if err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime(b)
				t0 := time.Now()
				err = d.ReadTx(ctx, c.tenant, func(tx *sql.Tx) error {
					if !filtered {
						found, err := x.Ranked(ctx, tx, c.tenant, parsed, 50)
						hits += len(found)
						return err
					}
					k, err := cityAndWord(ctx, tx, x, c.tenant, search.Fold(city), parsed)
					hits += k
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t0))
				cpu = append(cpu, cpuTime(b)-c0)
			}
			if hits == 0 {
				b.Fatalf("%s: no query found anything", kind)
			}
			slices.Sort(times)
			slices.Sort(cpu)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds()), "p95-µs")
			// The processor time the process spent on a query: what it
			// costs when the machine is shared (wall times then include
			// the wait for a core).
			b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds()), "cpu-p50-µs")
			b.ReportMetric(float64(cpu[len(cpu)*95/100].Microseconds()), "cpu-p95-µs")
		})
	}
}

// cityAndWord reads the first 50 candidates of the city whose entry
// matches q, in the list's order (newest first), and returns how many.
func cityAndWord(ctx context.Context, tx *sql.Tx, x *search.Index, tenant, city string, q *search.Query) (int, error) {
	args := []any{tenant, city}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	m := x.Match(q, tenant, "c.id", arg)
	if m == "" {
		return 0, errors.New("no text to match")
	}
	if err := x.PlanForValues(ctx, tx); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.id FROM candidates c WHERE c.tenant_id = $1 AND c.city_folded = $2 AND `+m+`
		ORDER BY c.created_at DESC, c.id DESC LIMIT 50`, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// cpuTime is the processor time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
