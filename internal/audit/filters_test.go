package audit_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// The indexes of the trail's filters (migration 0026); the references'
// key is the table's primary key.
const (
	byTime   = "audit_records_time"
	byTrack  = "audit_records_track"
	byAction = "audit_records_action"
	byActor  = "audit_records_actor"
	byObject = "refs key"
)

// filterCase is a filter of the /audit page, and the indexes that may
// serve it: the filter's own, or, where filters combine, any of theirs.
// selective: the filter's values are rare in the trail, so that reading
// any other index would read much of the company's trail for one page.
type filterCase struct {
	name      string
	f         audit.Filter
	indexes   []string
	selective bool
	// empty: the filter matches nothing (the worst case of a combination).
	empty bool
}

func filterCases(s trailShape) []filterCase {
	day := 24 * time.Hour
	mid := s.first.Add(s.last.Sub(s.first) / 2).Truncate(day)
	return []filterCase{
		{"no filter", audit.Filter{}, []string{byTime}, false, false},
		{"track history", audit.Filter{Track: audit.History}, []string{byTrack}, false, false},
		{"track admin", audit.Filter{Track: audit.Admin}, []string{byTrack}, true, false},
		{"action stage changed", audit.Filter{Action: audit.StageChanged}, []string{byAction}, false, false},
		{"action role changed", audit.Filter{Action: audit.UserRoleChanged}, []string{byAction}, true, false},
		{"actor recruiter", audit.Filter{ActorID: s.recruiter}, []string{byActor}, false, false},
		{"actor administrator", audit.Filter{ActorID: s.rareActor}, []string{byActor}, true, false},
		{"object application", audit.Filter{ObjectKind: "application", ObjectID: s.application}, []string{byObject}, true, false},
		{"object position", audit.Filter{ObjectKind: "position", ObjectID: s.position}, []string{byObject}, true, false},
		{"object id without kind", audit.Filter{ObjectID: s.candidate}, []string{byObject}, true, false},
		{"one day", audit.Filter{From: mid, To: mid.Add(day)}, []string{byTime}, true, false},
		{"track, action, actor and day", audit.Filter{Track: audit.History, Action: audit.ApplicationCreated, ActorID: s.recruiter, From: mid, To: mid.Add(day)},
			[]string{byAction, byActor}, true, false},
		{"action and actor", audit.Filter{Action: audit.StageChanged, ActorID: s.recruiter}, []string{byAction, byActor}, false, false},
		{"actor and track", audit.Filter{ActorID: s.rareActor, Track: audit.Admin}, []string{byActor, byTrack}, true, false},
		{"actor and day", audit.Filter{ActorID: s.recruiter, From: mid, To: mid.Add(day)}, []string{byActor, byTime}, true, false},
		{"object and track", audit.Filter{ObjectKind: "application", ObjectID: s.application, Track: audit.Security}, []string{byObject}, true, false},
		{"actor who never did the action", audit.Filter{ActorID: s.signInOnly, Action: audit.StageChanged}, []string{byActor}, true, true},
		{"a user's sign-ins (security page)", audit.Filter{Track: audit.Security, Action: audit.SignInSucceeded, ObjectKind: "user", ObjectID: s.recruiter},
			[]string{byObject, byAction}, false, false},
	}
}

// switchRecorder records statements only while on: the data is built
// untraced.
type switchRecorder struct {
	on  atomic.Bool
	rec dbtest.Recorder
}

func (s *switchRecorder) trace(q string, args []any) {
	if s.on.Load() {
		s.rec.Trace(q, args)
	}
}

// TestListFiltersUseTheirIndexes lists a company's trail with every filter
// of the /audit page (alone and combined as the page combines them, first
// page and next) and explains each statement List runs, on the engine
// under test: no plan may read the company's trail whole or sort it, and a
// selective filter must read its own index, not walk another one. Other
// filters' plans are logged with -v.
func TestListFiltersUseTheirIndexes(t *testing.T) {
	var sw switchRecorder
	d := dbtest.OpenTraced(t, sw.trace)
	s, _, err := audit.LoadOrCreateSigner(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(d, s, audit.Rules{})
	shape := buildTrail(t, l, d, "t1", 12000, 1)
	buildTrail(t, l, d, "t2", 3000, 2) // another company: t1's rows are a part of each index
	ctx := context.Background()
	for _, c := range filterCases(shape) {
		t.Run(c.name, func(t *testing.T) {
			sw.rec.Reset()
			sw.on.Store(true)
			recs, next, err := l.List(ctx, "t1", c.f)
			if err == nil && next != "" {
				f := c.f
				f.After = next
				_, _, err = l.List(ctx, "t1", f)
			}
			sw.on.Store(false)
			if err != nil {
				t.Fatal(err)
			}
			if (len(recs) == 0) != c.empty {
				t.Fatalf("%d records: the case tests something else than it says", len(recs))
			}
			stmts := sw.rec.Take()
			for _, p := range dbtest.CheckPlans(ctx, d, stmts, []string{"audit_records", "audit_refs"}) {
				t.Error(p)
			}
			for _, plan := range dbtest.Plans(ctx, d, stmts) {
				if strings.HasPrefix(plan, "SELECT k.column1") {
					continue // the kind of a bare object id: a probe of the references' key per kind, checked above
				}
				t.Logf("%s", plan)
				if sorts(d, plan) {
					t.Errorf("the page sorts the records it reads instead of reading them in order:\n%s", plan)
				}
				if c.selective && !usesOneOf(d, plan, c.indexes) {
					t.Errorf("the filter does not read its own index (one of %v):\n%s", c.indexes, plan)
				}
			}
		})
	}
}

// sorts reports whether plan sorts what it reads before the page can
// start. Sorting only the records that share a time, as they are read in
// its order (SQLite's "LAST TERM", PostgreSQL's Incremental Sort), stops
// with the page and is no sort in this sense.
func sorts(d *db.DB, plan string) bool {
	if d.Engine == db.Postgres {
		for _, line := range strings.Split(plan, "\n") {
			if l := strings.TrimLeft(strings.TrimSpace(line), "-> "); strings.HasPrefix(l, "Sort ") {
				return true
			}
		}
		return false
	}
	return strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") || strings.Contains(plan, "USE TEMP B-TREE FOR RIGHT")
}

// usesOneOf reports whether plan reads the records through one of the
// indexes (byObject: the references' key).
func usesOneOf(d *db.DB, plan string, indexes []string) bool {
	return slices.ContainsFunc(indexes, func(ix string) bool {
		if ix == byObject {
			if d.Engine == db.Postgres {
				return strings.Contains(plan, "audit_refs_pkey")
			}
			return strings.Contains(plan, "SEARCH r USING PRIMARY KEY")
		}
		return strings.Contains(plan, ix)
	})
}
