package audit_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// walkRecords lists records page by page, calling between (if set) after
// the first page.
func (f *fixture) walkRecords(tenant string, flt audit.Filter, between func()) []audit.Record {
	f.t.Helper()
	var out []audit.Record
	flt.After = ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			f.t.Fatal("the walk does not end")
		}
		recs, next, err := f.log.List(context.Background(), tenant, flt)
		if err != nil {
			f.t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(recs) > flt.Limit || (next != "" && len(recs) != flt.Limit) {
			f.t.Fatalf("page %d holds %d records (next %q), page size %d", pages+1, len(recs), next, flt.Limit)
		}
		out = append(out, recs...)
		if next == "" {
			return out
		}
		if pages == 0 && between != nil {
			between()
		}
		flt.After = next
	}
}

type recordKey struct {
	track audit.Track
	seq   int64
}

func recordKeys(recs []audit.Record) []recordKey {
	out := make([]recordKey, len(recs))
	for i, r := range recs {
		out[i] = recordKey{r.Track, r.Seq}
	}
	return out
}

// listedBefore reports whether a comes before b in the trail's listing order:
// newest first, then by track and sequence, descending.
func listedBefore(a, b audit.Record) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	if a.Track != b.Track {
		return a.Track > b.Track
	}
	return a.Seq > b.Seq
}

// TestListPagesWalkEveryRecordOnce: the trail, paged newest first by a
// cursor on (time, track, seq), returns every record once in one order,
// also when many records share a time and when records are appended
// between two pages.
func TestListPagesWalkEveryRecordOnce(t *testing.T) {
	f := newFixture(t)
	base := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	profile := func(at time.Time) audit.Event {
		return audit.Event{Action: audit.ProfileChanged, Actor: audit.User("u1"), Objects: []audit.Ref{{Kind: "user", ID: "u1"}}, Time: at}
	}
	security := func(at time.Time) audit.Event {
		e := signIn("u1")
		e.Time = at
		return e
	}
	// 27 records (more than 2.5 pages of 10) on two tracks; most share
	// their time with others.
	for i := range 27 {
		at := base.Add(time.Duration(i/4) * time.Second)
		if i%3 == 0 {
			f.record("t1", security(at))
		} else {
			f.record("t1", profile(at))
		}
	}
	f.record("t2", profile(base))
	all, next, err := f.log.List(context.Background(), "t1", audit.Filter{Limit: audit.MaxPage})
	if err != nil || next != "" || len(all) != 27 {
		t.Fatalf("list: %d records, next %q, %v", len(all), next, err)
	}
	for i := 1; i < len(all); i++ {
		if !listedBefore(all[i-1], all[i]) {
			t.Fatalf("records %d and %d are out of order", i-1, i)
		}
	}
	want := recordKeys(all)
	for _, limit := range []int{10, 1, 4, 27, 50} {
		if got := recordKeys(f.walkRecords("t1", audit.Filter{Limit: limit}, nil)); !slices.Equal(got, want) {
			t.Fatalf("pages of %d: %v, want %v", limit, got, want)
		}
	}
	// A filter pages the same way.
	var wantSecurity []recordKey
	for _, r := range all {
		if r.Track == audit.Security {
			wantSecurity = append(wantSecurity, recordKey{r.Track, r.Seq})
		}
	}
	if got := recordKeys(f.walkRecords("t1", audit.Filter{Track: audit.Security, Limit: 4}, nil)); !slices.Equal(got, wantSecurity) {
		t.Fatalf("security pages: %v, want %v", got, wantSecurity)
	}
	// Between the first and the second page, records are appended: later
	// ones, and on both tracks at the time of the cursor's record.
	for _, limit := range []int{10, 5} {
		now, _, err := f.log.List(context.Background(), "t1", audit.Filter{Limit: audit.MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		cur := now[limit-1]
		appended := 0
		got := f.walkRecords("t1", audit.Filter{Limit: limit}, func() {
			f.record("t1", profile(base.Add(time.Hour)))
			f.record("t1", security(base.Add(time.Hour)))
			f.record("t1", profile(cur.Time))
			f.record("t1", security(cur.Time))
			appended = 4
		})
		if appended != 4 {
			t.Fatal("nothing was appended during the walk")
		}
		seen := map[recordKey]int{}
		for i, r := range got {
			k := recordKey{r.Track, r.Seq}
			if seen[k]++; seen[k] > 1 {
				t.Fatalf("pages of %d: record %v listed twice", limit, k)
			}
			if i > 0 && !listedBefore(got[i-1], r) {
				t.Fatalf("pages of %d: records %d and %d are out of order", limit, i-1, i)
			}
			if !slices.Contains(recordKeys(now), k) && !listedBefore(cur, r) {
				t.Fatalf("pages of %d: record %v appended before the cursor is listed", limit, k)
			}
		}
		for _, k := range recordKeys(now) {
			if seen[k] != 1 {
				t.Fatalf("pages of %d: record %v missing", limit, k)
			}
		}
	}
}

// TestListRefusesForeignCursors: a cursor List did not make is refused
// before it reaches the database, on both engines.
func TestListRefusesForeignCursors(t *testing.T) {
	f := newFixture(t)
	f.record("t1", signIn("u1"))
	for _, c := range []string{"garbage", "1.security", "1.security.x", "x.security.1", "1.nosuchtrack.1", "1.secu\xffrity.1",
		"1.secu\x00rity.1", "9223372036854775807.security.1", "-9223372036854775807.security.1"} {
		recs, next, err := f.log.List(context.Background(), "t1", audit.Filter{After: c})
		if !errors.Is(err, audit.ErrInvalidEvent) || recs != nil || next != "" {
			t.Errorf("cursor %q: %d records, next %q, %v; want a refusal", c, len(recs), next, err)
		}
	}
}

// TestListNeedsNoSort: SQLite reads a page of the company's trail from the
// time index in order, without sorting the trail (the query is List's).
func TestListNeedsNoSort(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) != "" {
		t.Skip("the query plan checked is SQLite's")
	}
	d := dbtest.Open(t)
	const q = `EXPLAIN QUERY PLAN SELECT a.tenant_id, a.track, a.seq, a.id, a.occurred_at, a.actor_kind, a.actor_id, a.action, a.objects, a.request_id, a.details, a.prev_hash, a.hash
FROM audit_records a WHERE a.tenant_id = $1`
	const order = ` ORDER BY a.occurred_at DESC, a.track DESC, a.seq DESC LIMIT 51`
	for _, query := range []string{q + order, q + ` AND (a.occurred_at, a.track, a.seq) < ($2, $3, $4)` + order} {
		plan := sqlitePlan(t, d, query, "t1", time.Now(), "security", 3)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "audit_records_time") {
			t.Fatalf("plan of %s:\n%s", query, plan)
		}
	}
}

func sqlitePlan(t *testing.T, d *db.DB, query string, args ...any) string {
	t.Helper()
	rows, err := d.Read.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
