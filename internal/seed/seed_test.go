package seed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/seed"
	"github.com/kandidat/kandidat/internal/testkit"
)

// services builds the real services over d, with a cheap password hash.
func services(t testing.TB, d *db.DB) seed.Deps {
	t.Helper()
	k := testkit.New(t, testkit.Options{DB: d})
	return seed.Deps{DB: d, Tenants: k.Tenants, Accounts: k.Accounts, Recruit: k.Recruit, Credits: k.Credits, Audit: k.Audit}
}

// tiny is a scale small enough for a unit test, with every kind of data.
var tiny = seed.Scale{Name: "tiny", Companies: 2, Largest: 120, Others: 30, CandidatesPerPosition: 20, DocumentShare: 0.3}

var now = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func run(t *testing.T, d *db.DB, s uint64, workers ...int) *seed.Result {
	t.Helper()
	w := 1
	if len(workers) > 0 {
		w = workers[0]
	}
	res, err := seed.Run(context.Background(), services(t, d), seed.Options{Scale: tiny, Seed: s, Now: now, Password: "seed-Pass-2026-x", BatchSize: 40, Workers: w})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// openSQLite opens a migrated SQLite database whatever the suite's engine.
func openSQLite(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// dumped are the tables and columns of the canonical dump: what the seed
// decides, without what the clock, the key generator or the password hash
// decide (creation times of companies and users, keys, hashes).
var dumped = []struct{ table, columns, order string }{
	{"tenants", "id, slug, name, registration_number, default_language", "id"},
	{"users", "tenant_id, id, login, email, display_name, language, role, status, must_change_password, extra_permissions", "tenant_id, id"},
	{"positions", "tenant_id, id, title, department, location, language, description, employment_type, status, owner_id, first_published_at, published_at, created_at", "tenant_id, id"},
	{"position_stages", "tenant_id, id, position_id, name, kind, ord", "tenant_id, id"},
	{"position_members", "tenant_id, position_id, user_id", "tenant_id, position_id, user_id"},
	{"candidates", "tenant_id, id, name, email, phone, created_at, city, city_folded, country, title, employer, linkedin, portfolio, notice_weeks, salary_amount, salary_currency, salary_period", "tenant_id, id"},
	// Skills by count and length of names (their ids are drawn when the
	// vocabulary grows, and an order by name would depend on the
	// collation); the profile's history holds them by name.
	{"candidate_skills cs JOIN skills s ON s.tenant_id = cs.tenant_id AND s.id = cs.skill_id GROUP BY cs.tenant_id, cs.candidate_id",
		"cs.tenant_id, cs.candidate_id, count(*), sum(length(s.folded))", "cs.tenant_id, cs.candidate_id"},
	{"candidate_languages", "tenant_id, candidate_id, language, level", "tenant_id, candidate_id, language"},
	{"candidate_profile_changes", "tenant_id, candidate_id, field, old_value, new_value, changed_at, changed_by, via", "tenant_id, candidate_id, field"},
	{"applications", "tenant_id, id, position_id, candidate_id, stage, stage_id, source, cover_letter, rejection_reason, created_at, updated_at", "tenant_id, id"},
	{"application_counts", "tenant_id, position_id, stage_id, n", "tenant_id, position_id, stage_id"},
	{"documents", "tenant_id, id, candidate_id, application_id, kind, file_name, file_type, size, created_at", "tenant_id, id"},
	{"consent_log", "tenant_id, id, candidate_id, purpose, event, given_name, family_name, email, text_version, language, referral, valid_until, created_at", "tenant_id, id"},
	{"candidates c", "c.tenant_id, c.id, c.purpose_until, c.consent_until, c.basis_until", "c.tenant_id, c.id"},
	{"comments", "tenant_id, id, application_id, author_id, body, created_at", "tenant_id, id"},
	{"ratings", "tenant_id, application_id, user_id, value, updated_at", "tenant_id, application_id, user_id"},
	{"application_labels", "tenant_id, application_id, label, created_at", "tenant_id, application_id, label"},
	{"tasks", "tenant_id, id, application_id, title, due_on, assignee_id, done, created_by, created_at", "tenant_id, id"},
	{"interviews", "tenant_id, id, application_id, starts_at, duration_minutes, time_zone, location, status, created_by, created_at", "tenant_id, id"},
	{"interview_participants", "tenant_id, interview_id, user_id", "tenant_id, interview_id, user_id"},
	{"messages", "tenant_id, id, application_id, kind, subject, body, status, created_at", "tenant_id, id"},
	// The history track is all the seed's own, with its own times.
	{"audit_records WHERE track = 'history'", "tenant_id, seq, occurred_at, actor_kind, actor_id, action, objects, details", "tenant_id, seq"},
}

// dumpHash is the SHA-256 of a canonical text dump of the seeded data,
// the same on both engines for the same data.
func dumpHash(t *testing.T, d *db.DB) (string, int) {
	t.Helper()
	h := sha256.New()
	rowsSeen := 0
	for _, tb := range dumped {
		name, _, _ := strings.Cut(tb.table, " ")
		fmt.Fprintf(h, "== %s\n", name)
		rows, err := d.Read.Query(`SELECT ` + tb.columns + ` FROM ` + tb.table + ` ORDER BY ` + tb.order)
		if err != nil {
			t.Fatalf("%s: %v", tb.table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if i > 0 {
					h.Write([]byte{'|'})
				}
				h.Write([]byte(canonical(v)))
			}
			h.Write([]byte{'\n'})
			rowsSeen++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), rowsSeen
}

// canonical writes a value the same way whichever engine returned it.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000Z")
	case bool:
		if x {
			return "1"
		}
		return "0"
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

// TestSameSeedSameData: two runs with one seed make the same data, byte for
// byte in a canonical dump, on SQLite and (when the suite runs there) on
// PostgreSQL too; another seed makes other data.
func TestSameSeedSameData(t *testing.T) {
	a := openSQLite(t)
	res := run(t, a, 7)
	hashA, n := dumpHash(t, a)
	if n < 1000 {
		t.Fatalf("the dump has %d rows, want the seeded data", n)
	}
	if res.Applications == 0 || res.Documents == 0 || len(res.Companies) != 2 {
		t.Fatalf("seeded %+v", res)
	}
	b := dbtest.Open(t) // PostgreSQL when the suite runs there
	run(t, b, 7, 2)     // companies written two at a time: the same data
	if hashB, _ := dumpHash(t, b); hashB != hashA {
		t.Fatalf("same seed: dump %s on %s, %s on sqlite", hashB, b.Engine, hashA)
	}
	c := openSQLite(t)
	run(t, c, 8)
	if hashC, _ := dumpHash(t, c); hashC == hashA {
		t.Fatal("another seed made the same data")
	}
}

// TestSeedContents: the data has what a recruiter's company has.
func TestSeedContents(t *testing.T) {
	d := dbtest.Open(t)
	res := run(t, d, 1)
	ctx := context.Background()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := d.Read.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for _, tc := range []struct {
		what string
		q    string
		min  int
	}{
		{"candidates of the largest company", `SELECT count(*) FROM candidates WHERE tenant_id = '` + res.Companies[0].ID + `'`, tiny.Largest},
		{"applications per candidate", `SELECT count(*) / 100 FROM applications`, 2},
		{"rejected applications", `SELECT count(*) FROM applications WHERE stage = 'rejected'`, 20},
		{"hired", `SELECT count(*) FROM applications WHERE stage = 'hired'`, 1},
		{"comments", `SELECT count(*) FROM comments`, 10},
		{"interviews", `SELECT count(*) FROM interviews`, 5},
		{"emails", `SELECT count(*) FROM messages`, 100},
		{"documents", `SELECT count(*) FROM documents`, 20},
		{"names with diacritics", `SELECT count(*) FROM candidates WHERE name <> lower(name) AND (name LIKE '%ä%' OR name LIKE '%ø%' OR name LIKE '%ř%' OR name LIKE '%á%' OR name LIKE '%š%')`, 5},
		{"positions in several languages", `SELECT count(DISTINCT language) FROM positions`, 2},
		{"history records", `SELECT count(*) FROM audit_records WHERE track = 'history'`, 400},
		{"users in every role", `SELECT count(DISTINCT role) FROM users`, 6},
		{"candidates with a city, title and employer", `SELECT count(*) FROM candidates WHERE city <> '' AND city_folded <> '' AND country <> '' AND title <> '' AND employer <> ''`, tiny.Largest},
		{"candidates with a salary expectation", `SELECT count(*) FROM candidates WHERE salary_amount IS NOT NULL AND salary_currency <> '' AND salary_period <> ''`, tiny.Largest / 4},
		{"skills in the vocabulary", `SELECT count(*) FROM skills`, 20},
		{"candidates with three or more skills", `SELECT count(*) FROM (SELECT candidate_id FROM candidate_skills GROUP BY tenant_id, candidate_id HAVING count(*) >= 3) x`, tiny.Largest},
		{"candidates with more than eight skills (none)", `SELECT 1 - count(*) FROM (SELECT candidate_id FROM candidate_skills GROUP BY tenant_id, candidate_id HAVING count(*) > 8) x`, 1},
		{"candidates with a language", `SELECT count(DISTINCT candidate_id) FROM candidate_languages`, tiny.Largest},
		{"profile history via import", `SELECT count(*) FROM candidate_profile_changes WHERE via = 'import' AND old_value = ''`, tiny.Largest * 5},
		{"counters agree with the applications", `SELECT count(*) FROM (SELECT 1 FROM applications GROUP BY tenant_id, position_id, stage_id) x`, 1},
	} {
		if n := count(tc.q); n < tc.min {
			t.Errorf("%s: %d, want at least %d", tc.what, n, tc.min)
		}
	}
	// The counters the triggers keep equal a count of the applications.
	if n := count(`SELECT count(*) FROM (SELECT a.tenant_id, a.position_id, a.stage_id, count(*) AS n FROM applications a GROUP BY a.tenant_id, a.position_id, a.stage_id) x
		LEFT JOIN application_counts c ON c.tenant_id = x.tenant_id AND c.position_id = x.position_id AND c.stage_id = x.stage_id WHERE c.n IS NULL OR c.n <> x.n`); n != 0 {
		t.Errorf("%d counters differ from the applications", n)
	}
	// Nothing is after the end of the history, nothing before its start.
	if n := count(`SELECT count(*) FROM audit_records WHERE track = 'history' AND occurred_at > '` + now.Format("2006-01-02") + `'`); n != 0 {
		t.Errorf("%d records after the end of the history", n)
	}
	// The trail of every company verifies.
	vr, err := services(t, d).Audit.Verify(ctx, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Problems) != 0 {
		t.Fatalf("the seeded trail does not verify: %v", vr.Problems[:min(3, len(vr.Problems))])
	}
	// A second run refuses a non-empty installation; --append adds to it.
	if _, err := seed.Run(ctx, services(t, d), seed.Options{Scale: tiny, Seed: 1, Now: now}); !errors.Is(err, seed.ErrNotEmpty) {
		t.Fatalf("second run: %v, want ErrNotEmpty", err)
	}
	small := tiny
	small.Companies, small.Largest = 1, 10
	if _, err := seed.Run(ctx, services(t, d), seed.Options{Scale: small, Seed: 1, Now: now, Append: true}); err != nil {
		t.Fatalf("append: %v", err)
	}
	if n := count(`SELECT count(*) FROM tenants`); n != 3 {
		t.Fatalf("after append: %d companies, want 3", n)
	}
}

// TestInterruptedRunLeavesWholeBatches: a run cancelled midway leaves the
// batches it committed, each whole: every application has its history.
func TestInterruptedRunLeavesWholeBatches(t *testing.T) {
	d := dbtest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := &cancelAfter{n: 2, cancel: cancel}
	_, err := seed.Run(ctx, services(t, d), seed.Options{Scale: tiny, Seed: 3, Now: now, Password: "seed-Pass-2026-x", BatchSize: 25, Progress: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	var apps, created int
	if err := d.Read.QueryRow(`SELECT count(*) FROM applications`).Scan(&apps); err != nil {
		t.Fatal(err)
	}
	if err := d.Read.QueryRow(`SELECT count(*) FROM audit_records WHERE action = 'application.created'`).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if apps == 0 || apps != created || apps != p.added {
		t.Fatalf("%d applications with %d creation records after %d reported; want equal and more than 0", apps, created, p.added)
	}
}

type cancelAfter struct {
	n, batches, added int
	cancel            func()
}

func (c *cancelAfter) Start(int) {}
func (c *cancelAfter) Add(n int) {
	c.added += n
	if c.batches++; c.batches == c.n {
		c.cancel()
	}
}
func (c *cancelAfter) Finish() {}
