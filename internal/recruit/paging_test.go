package recruit_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The keyset pages of the candidate list, the positions list and the
// shared pool: every row once, in (time, id) order newest first, with ties
// of time broken by id, through filters, while rows arrive between two
// pages, and with any cursor a client may send.

// pagingT0 is the fixtures' epoch.
var pagingT0 = time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)

// row is what a test knows of an application it imported.
type row struct {
	id, position, name string
	stage              access.StageKind
	created, updated   time.Time
	label              bool
	source             string
}

func inPool(r row) bool { return access.InSharedPool(r.stage) }

// importRows writes rows through the importer in one batch: each
// candidate's email is the row's id at example.org; a labelled row gets
// "urgent" when it is created; a row at another stage than new is moved
// there at its updated time.
func importRows(t *testing.T, e *env, rows []row) {
	t.Helper()
	hr := e.users[access.HRManager].UserID
	apps := make([]recruit.ImportApplication, 0, len(rows))
	for _, r := range rows {
		ia := recruit.ImportApplication{ID: r.id, Candidate: recruit.CandidateInput{Name: r.name, Email: r.id + "@example.org"},
			PositionID: r.position, Source: r.source, CreatedAt: r.created, AddedBy: hr}
		if r.label {
			ia.Events = append(ia.Events, recruit.ImportEvent{At: r.created, ActorID: hr, Kind: "label", Text: "urgent"})
		}
		if r.stage != access.StageNew {
			ev := recruit.ImportEvent{At: r.updated, ActorID: hr, Kind: "move", Stage: r.stage}
			if r.stage == access.StageRejected {
				ev.Reason = "other"
			}
			ia.Events = append(ia.Events, ev)
		}
		apps = append(apps, ia)
	}
	if err := e.svc.ImportApplications(context.Background(), e.tenantID, apps); err != nil {
		t.Fatal(err)
	}
}

// importPositions writes the three positions of the list fixture: the
// recruiter's (shared with the line manager), the second recruiter's and
// the HR manager's.
func importPositions(t *testing.T, e *env) {
	t.Helper()
	ps := []recruit.ImportPosition{
		{ID: "pos-own", OwnerID: e.users[access.Recruiter].UserID, Members: []string{e.users[access.LineManager].UserID}},
		{ID: "pos-other", OwnerID: e.users["recruiter2"].UserID},
		{ID: "pos-hr", OwnerID: e.users[access.HRManager].UserID},
	}
	for i := range ps {
		ps[i].Input = recruit.PositionInput{Title: ps[i].ID, Language: "en"}
		ps[i].Status = recruit.Draft
		ps[i].CreatedAt = pagingT0.Add(-time.Duration(24*(i+1)) * time.Hour)
	}
	if err := e.svc.ImportPositions(context.Background(), e.tenantID, ps); err != nil {
		t.Fatal(err)
	}
}

var (
	firstNames = []string{"Anna", "Bohumil", "Cyril", "Ema", "Filip", "Hana", "Ivo", "Jana"}
	// Dvořák and Dvořáková start with "dvorak" once folded; Nedvořák does not.
	surnames = []string{"Dvořák", "Dvořáková", "Nedvořák", "Novák", "Svoboda", "Černý", "Brännström", "Øster", "Kowalski"}
)

// listRows are n applications: groups of three created at the same
// microsecond (pairs of groups a microsecond apart, so a cursor that lost
// precision shows), ids not in the order of creation within a group,
// random positions and stages, pool moves at times that tie too.
func listRows(n int) []row {
	r := rand.New(rand.NewPCG(7, 11))
	positions := []string{"pos-own", "pos-other", "pos-hr"}
	perm := r.Perm(n)
	out := make([]row, n)
	for i := range out {
		g := i / 3
		created := pagingT0.Add(time.Duration(g/2)*time.Minute + time.Duration(g%2)*time.Microsecond)
		rw := row{
			id:       fmt.Sprintf("app-%03d", perm[i]),
			position: positions[r.IntN(len(positions))],
			name:     firstNames[i%len(firstNames)] + " " + surnames[i%len(surnames)],
			stage:    access.StageKinds[r.IntN(len(access.StageKinds))],
			created:  created,
			updated:  created,
			label:    i%4 == 0,
		}
		if i%2 == 0 {
			rw.source = "linkedin"
		}
		if rw.stage != access.StageNew {
			rw.updated = pagingT0.Add(48*time.Hour + time.Duration(r.IntN(6))*time.Minute)
		}
		out[i] = rw
	}
	return out
}

// want is the ids of rows that keep, newest first by created (or updated)
// time, then by id, descending.
func want(rows []row, byUpdated bool, keep func(row) bool) []string {
	var sel []row
	for _, r := range rows {
		if keep(r) {
			sel = append(sel, r)
		}
	}
	at := func(r row) time.Time {
		if byUpdated {
			return r.updated
		}
		return r.created
	}
	slices.SortFunc(sel, func(a, b row) int {
		if c := at(b).Compare(at(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	ids := make([]string, len(sel))
	for i, r := range sel {
		ids[i] = r.id
	}
	return ids
}

// walkPages follows a list's cursors from after to the end: no page
// longer than limit, every page before the last full, no row twice.
func walkPages[T any](t *testing.T, name string, limit int, after string, fetch func(after string) ([]T, string, error), id func(T) string) []T {
	t.Helper()
	var out []T
	seen := map[string]int{}
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatalf("%s: the walk does not end", name)
		}
		items, next, err := fetch(after)
		if err != nil {
			t.Fatalf("%s: page %d: %v", name, page, err)
		}
		if len(items) > limit || next != "" && len(items) != limit {
			t.Errorf("%s: page %d has %d rows (limit %d), next %q", name, page, len(items), limit, next)
		}
		for _, it := range items {
			if p, ok := seen[id(it)]; ok {
				t.Errorf("%s: %s on page %d and again on page %d", name, id(it), p, page)
			}
			seen[id(it)] = page
			out = append(out, it)
		}
		if next == "" {
			return out
		}
		if next == after {
			t.Fatalf("%s: page %d's cursor is the one it was asked for: %q", name, page, next)
		}
		after = next
	}
}

func appIDs(apps []*recruit.Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.ID
	}
	return out
}

// sameIDs fails with what is missing, what is extra, and the orders.
func sameIDs(t *testing.T, name string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	t.Errorf("%s: missing %v, extra %v\n got  %v\n want %v", name, missing, extra, got, want)
}

// walkList walks the candidate list of a with filter f and checks each
// page's total.
func walkList(t *testing.T, e *env, a access.Actor, name string, f recruit.ListFilter, wantTotal int) []*recruit.Application {
	t.Helper()
	e.indexed(t)
	return walkPages(t, name, f.Limit, "", func(after string) ([]*recruit.Application, string, error) {
		f.After = after
		p, err := e.svc.ListPage(context.Background(), a, f)
		if err != nil {
			return nil, "", err
		}
		if wantTotal >= 0 && (p.Total != wantTotal || p.TotalCapped) {
			t.Errorf("%s: total %d (capped %v), want %d", name, p.Total, p.TotalCapped, wantTotal)
		}
		return p.Applications, p.Next, nil
	}, func(a *recruit.Application) string { return a.ID })
}

// TestListPageWalk walks the candidate list as an HR manager, a recruiter
// (own positions and the shared pool) and a line manager (the position
// shared with them), unfiltered and through each filter, page by page.
func TestListPageWalk(t *testing.T) {
	e := newEnv(t)
	importPositions(t, e)
	rows := listRows(120)
	importRows(t, e, rows)
	byID := map[string]row{}
	for _, r := range rows {
		byID[r.id] = r
	}

	all := func(row) bool { return true }
	recruiterSees := func(r row) bool { return r.position == "pos-own" || inPool(r) }
	lineManagerSees := func(r row) bool { return r.position == "pos-own" }
	and := func(a, b func(row) bool) func(row) bool { return func(r row) bool { return a(r) && b(r) } }
	dvorak := func(r row) bool {
		s := strings.Fields(r.name)[1]
		return s == "Dvořák" || s == "Dvořáková"
	}
	for _, tc := range []struct {
		who  string
		f    recruit.ListFilter
		keep func(row) bool
	}{
		{access.HRManager, recruit.ListFilter{}, all},
		{access.HRManager, recruit.ListFilter{PositionID: "pos-own"}, func(r row) bool { return r.position == "pos-own" }},
		{access.HRManager, recruit.ListFilter{Stage: access.StageInterview}, func(r row) bool { return r.stage == access.StageInterview }},
		{access.HRManager, recruit.ListFilter{Stage: access.StageNew, PositionID: "pos-hr"}, func(r row) bool { return r.stage == access.StageNew && r.position == "pos-hr" }},
		{access.HRManager, recruit.ListFilter{Text: "dvorak"}, dvorak},
		{access.HRManager, recruit.ListFilter{Text: "DVOŘÁK"}, dvorak},
		{access.HRManager, recruit.ListFilter{Text: "nedvor"}, func(r row) bool { return strings.HasSuffix(r.name, " Nedvořák") }},
		{access.HRManager, recruit.ListFilter{Text: "brannstrom"}, func(r row) bool { return strings.HasSuffix(r.name, " Brännström") }},
		{access.HRManager, recruit.ListFilter{Label: "urgent"}, func(r row) bool { return r.label }},
		{access.HRManager, recruit.ListFilter{Source: "linkedin"}, func(r row) bool { return r.source == "linkedin" }},
		{access.HRManager, recruit.ListFilter{Label: "urgent", Source: "linkedin"}, func(r row) bool { return r.label && r.source == "linkedin" }},
		{access.Recruiter, recruit.ListFilter{}, recruiterSees},
		{access.Recruiter, recruit.ListFilter{PositionID: "pos-other"}, and(recruiterSees, func(r row) bool { return r.position == "pos-other" })},
		{access.Recruiter, recruit.ListFilter{Stage: access.StageNew}, and(recruiterSees, func(r row) bool { return r.stage == access.StageNew })},
		{access.Recruiter, recruit.ListFilter{Text: "dvorak"}, and(recruiterSees, dvorak)},
		{access.Recruiter, recruit.ListFilter{Label: "urgent"}, and(recruiterSees, func(r row) bool { return r.label })},
		{access.LineManager, recruit.ListFilter{}, lineManagerSees},
		{access.LineManager, recruit.ListFilter{Text: "dvořák"}, and(lineManagerSees, dvorak)},
	} {
		w := want(rows, false, tc.keep)
		if tc.f.Limit == 0 {
			// At most 7, and small enough for more than 2.5 pages.
			tc.f.Limit = max(1, min(7, (2*len(w)-1)/5))
		}
		name := fmt.Sprintf("%s %+v", tc.who, tc.f)
		if 2*len(w) <= 5*tc.f.Limit {
			t.Fatalf("%s: the fixture gives %d rows, not more than 2.5 pages", name, len(w))
		}
		got := walkList(t, e, e.users[tc.who], name, tc.f, len(w))
		sameIDs(t, name, appIDs(got), w)
		for _, a := range got {
			if r := byID[a.ID]; !a.CreatedAt.Equal(r.created) || a.Stage != r.stage || a.Position.ID != r.position {
				t.Errorf("%s: %s is %s at %s of %s, imported %s at %s of %s", name, a.ID, a.Stage, a.CreatedAt, a.Position.ID, r.stage, r.created, r.position)
			}
		}
	}
}

// TestListPageRowsArriveBetweenPages: rows written after the first page
// (newer ones, and ones at the cursor's very time with a higher or a lower
// id) never make the walk skip or repeat a row that was there before.
func TestListPageRowsArriveBetweenPages(t *testing.T) {
	for _, who := range []string{access.HRManager, access.Recruiter} {
		t.Run(who, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			importPositions(t, e)
			rows := listRows(45)
			importRows(t, e, rows)
			a := e.users[who]
			keep := func(row) bool { return true }
			if who == access.Recruiter {
				keep = func(r row) bool { return r.position == "pos-own" || inPool(r) }
			}
			original := want(rows, false, keep)
			const limit = 7
			first, err := e.svc.ListPage(ctx, a, recruit.ListFilter{Limit: limit})
			if err != nil || first.Next == "" || len(first.Applications) != limit {
				t.Fatalf("first page: %v %v", first, err)
			}
			last := first.Applications[limit-1]
			// The position of the new rows is one the actor sees with every stage.
			pos := "pos-own"
			if who == access.HRManager {
				pos = "pos-hr"
			}
			at := func(id string, created time.Time) row {
				return row{id: id, position: pos, name: "Late Comer", stage: access.StageNew, created: created, updated: created}
			}
			higher, lower := last.ID+"z", last.ID[:len(last.ID)-1] // "app-012z" > "app-012" > "app-01"
			newest := rows[len(rows)-1].created.Add(time.Hour)
			importRows(t, e, []row{at("late-newest", newest), at(higher, last.CreatedAt), at(lower, last.CreatedAt), at("aaa-oldest", pagingT0.Add(-time.Hour))})
			// And through the service, at the cursor's time: a UUIDv7 id sorts
			// below "app-", so it comes on a later page.
			e.svc.SetClock(func() time.Time { return last.CreatedAt })
			byService, err := e.svc.AddCandidate(ctx, e.users[access.HRManager], pos, recruit.CandidateInput{Name: "Via Service", Email: "via@example.org"}, access.StageNew, recruit.ViaStaff)
			if err != nil {
				t.Fatal(err)
			}
			e.svc.SetClock(func() time.Time { return newest })
			if _, err := e.svc.AddCandidate(ctx, e.users[access.HRManager], pos, recruit.CandidateInput{Name: "Newest Service", Email: "newest@example.org"}, access.StageNew, recruit.ViaStaff); err != nil {
				t.Fatal(err)
			}
			got := appIDs(first.Applications)
			rest := walkPages(t, who+" rest", limit, first.Next, func(after string) ([]*recruit.Application, string, error) {
				p, err := e.svc.ListPage(ctx, a, recruit.ListFilter{After: after, Limit: limit})
				if err != nil {
					return nil, "", err
				}
				return p.Applications, p.Next, nil
			}, func(a *recruit.Application) string { return a.ID })
			got = append(got, appIDs(rest)...)
			count := map[string]int{}
			for _, id := range got {
				count[id]++
			}
			for id, n := range count {
				if n > 1 {
					t.Errorf("%s comes %d times", id, n)
				}
			}
			for _, id := range original {
				if count[id] != 1 {
					t.Errorf("original row %s comes %d times", id, count[id])
				}
			}
			// Keyset semantics: what sorts after the cursor comes, what sorts before does not.
			for id, wantN := range map[string]int{"late-newest": 0, higher: 0, lower: 1, "aaa-oldest": 1, byService.ID: 1} {
				if count[id] != wantN {
					t.Errorf("row %s written between pages comes %d times, want %d", id, count[id], wantN)
				}
			}
			var withoutNew []string
			for _, id := range got {
				if slices.Contains(original, id) {
					withoutNew = append(withoutNew, id)
				}
			}
			sameIDs(t, "original rows in order", withoutNew, original)
		})
	}
}

// TestListTotals: the HR manager's unfiltered (or position-filtered) total
// comes exact from the counters; any other total is counted up to 1000 and
// then says "more than".
func TestListTotals(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	e := newEnv(t)
	importPositions(t, e)
	const n = 1100
	rows := make([]row, n)
	for i := range rows {
		at := pagingT0.Add(time.Duration(i/10) * time.Second)
		rows[i] = row{id: fmt.Sprintf("bulk-%04d", i), position: "pos-own", name: "Bulk Dvořák", stage: access.StageNew, created: at, updated: at}
	}
	importRows(t, e, rows)
	importRows(t, e, []row{{id: "hr-one", position: "pos-hr", name: "Hana One", stage: access.StageNew, created: pagingT0, updated: pagingT0}})
	t.Logf("imported %d applications in %v", n+1, time.Since(start))
	e.indexed(t)
	rec := e.users[access.Recruiter]
	for _, tc := range []struct {
		who    string
		f      recruit.ListFilter
		total  int
		capped bool
	}{
		{access.HRManager, recruit.ListFilter{}, n + 1, false},
		{access.HRManager, recruit.ListFilter{PositionID: "pos-own"}, n, false},
		{access.HRManager, recruit.ListFilter{PositionID: "pos-hr"}, 1, false},
		{access.HRManager, recruit.ListFilter{Stage: access.StageNew}, 1000, true},
		{access.HRManager, recruit.ListFilter{Stage: access.StageNew, PositionID: "pos-hr"}, 1, false},
		{access.HRManager, recruit.ListFilter{Text: "dvorak"}, 1000, true},
		{access.HRManager, recruit.ListFilter{Text: "hana"}, 1, false},
		{access.HRManager, recruit.ListFilter{Stage: access.StageInterview}, 0, false},
		{access.Recruiter, recruit.ListFilter{}, 1000, true},
		{access.Recruiter, recruit.ListFilter{PositionID: "pos-hr"}, 0, false},
	} {
		tc.f.Limit = 7
		a := e.users[tc.who]
		p, err := e.svc.ListPage(ctx, a, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != tc.total || p.TotalCapped != tc.capped {
			t.Errorf("%s %+v: total %d capped %v, want %d %v", tc.who, tc.f, p.Total, p.TotalCapped, tc.total, tc.capped)
		}
		// The total is the list's, whatever the page.
		if p.Next != "" {
			tc.f.After = p.Next
			q, err := e.svc.ListPage(ctx, a, tc.f)
			if err != nil || q.Total != tc.total || q.TotalCapped != tc.capped {
				t.Errorf("%s %+v, second page: total %d capped %v (%v), want %d %v", tc.who, tc.f, q.Total, q.TotalCapped, err, tc.total, tc.capped)
			}
		}
	}
	pool, err := e.svc.PoolPage(ctx, rec, "", 7)
	if err != nil || pool.Total != 0 || pool.TotalCapped {
		t.Fatalf("empty pool: %+v %v", pool, err)
	}
	// The position's counts come from the counters; its board shows the
	// newest BoardLimit of the stage.
	p, err := e.svc.Position(ctx, rec, "pos-own")
	if err != nil || p.Counts[access.StageNew] != n || p.Total() != n {
		t.Fatalf("position counts: %v %v", p.Counts, err)
	}
	board, err := e.svc.Applications(ctx, rec, "pos-own")
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "board", appIDs(board), want(rows, false, func(row) bool { return true })[:recruit.BoardLimit])
	t.Logf("took %v", time.Since(start))
}

// posRow is what a test knows of a position it imported.
type posRow struct {
	id, owner, status string
	shared            bool
	created           time.Time
}

// TestPositionsPageWalk walks the positions list as an HR manager (all), a
// recruiter (own) and a line manager (shared with them), by status too:
// ties of three at one microsecond, ids not in creation order, with each
// position's counts; then while positions are created between two pages.
func TestPositionsPageWalk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const n = 40
	owners := []string{access.Recruiter, "recruiter2", access.HRManager}
	statuses := []string{recruit.Draft, recruit.Published, recruit.Closed, recruit.Archived}
	var rows []posRow
	var imp []recruit.ImportPosition
	for i := range n {
		g := i / 3
		pr := posRow{id: fmt.Sprintf("pos-%03d", (i*13+3)%n), owner: owners[(i*5/3)%3], status: statuses[(i*7/2)%4], shared: i%5 == 0,
			created: pagingT0.Add(time.Duration(g/2)*time.Hour + time.Duration(g%2)*time.Microsecond)}
		rows = append(rows, pr)
		ip := recruit.ImportPosition{ID: pr.id, OwnerID: e.users[pr.owner].UserID, Input: recruit.PositionInput{Title: "Title " + pr.id, Language: "en"},
			Status: pr.status, CreatedAt: pr.created}
		if pr.status != recruit.Draft {
			at := pr.created.Add(time.Hour)
			ip.PublishedAt = &at
		}
		if pr.shared {
			ip.Members = []string{e.users[access.LineManager].UserID}
		}
		imp = append(imp, ip)
	}
	if err := e.svc.ImportPositions(ctx, e.tenantID, imp); err != nil {
		t.Fatal(err)
	}
	// Applications to two positions, to see the counts on the page.
	counts := map[string]map[access.StageKind]int{}
	var apps []row
	for i := range 9 {
		pos := []string{rows[0].id, rows[10].id}[i%2]
		st := access.StageKinds[i%len(access.StageKinds)]
		at := pagingT0.Add(time.Duration(i) * time.Second)
		apps = append(apps, row{id: fmt.Sprintf("app-%03d", i), position: pos, name: "Ann Example", stage: st, created: at, updated: at.Add(time.Hour)})
		if counts[pos] == nil {
			counts[pos] = map[access.StageKind]int{}
		}
		counts[pos][st]++
	}
	importRows(t, e, apps)

	want := func(keep func(posRow) bool) []string {
		var sel []posRow
		for _, r := range rows {
			if keep(r) {
				sel = append(sel, r)
			}
		}
		slices.SortFunc(sel, func(a, b posRow) int {
			if c := b.created.Compare(a.created); c != 0 {
				return c
			}
			return cmp.Compare(b.id, a.id)
		})
		var ids []string
		for _, r := range sel {
			ids = append(ids, r.id)
		}
		return ids
	}
	walk := func(a access.Actor, name string, f recruit.PositionFilter, after string) []*recruit.Position {
		return walkPages(t, name, f.Limit, after, func(after string) ([]*recruit.Position, string, error) {
			f.After = after
			p, err := e.svc.PositionsPage(ctx, a, f)
			if err != nil {
				return nil, "", err
			}
			return p.Positions, p.Next, nil
		}, func(p *recruit.Position) string { return p.ID })
	}
	posIDs := func(ps []*recruit.Position) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		who  string
		f    recruit.PositionFilter
		keep func(posRow) bool
	}{
		{access.HRManager, recruit.PositionFilter{Limit: 7}, func(posRow) bool { return true }},
		{access.HRManager, recruit.PositionFilter{Limit: 3, Status: recruit.Published}, func(r posRow) bool { return r.status == recruit.Published }},
		{access.Recruiter, recruit.PositionFilter{Limit: 4}, func(r posRow) bool { return r.owner == access.Recruiter }},
		{access.Recruiter, recruit.PositionFilter{Limit: 1, Status: recruit.Closed}, func(r posRow) bool { return r.owner == access.Recruiter && r.status == recruit.Closed }},
		{access.LineManager, recruit.PositionFilter{Limit: 3}, func(r posRow) bool { return r.shared }},
	} {
		name := fmt.Sprintf("%s %+v", tc.who, tc.f)
		w := want(tc.keep)
		if 2*len(w) <= 5*tc.f.Limit {
			t.Fatalf("%s: the fixture gives %d positions, not more than 2.5 pages", name, len(w))
		}
		got := walk(e.users[tc.who], name, tc.f, "")
		sameIDs(t, name, posIDs(got), w)
		if first, err := e.svc.PositionsPage(ctx, e.users[tc.who], tc.f); err != nil || first.Total != len(w) {
			t.Errorf("%s: total %v (%v), want %d", name, first, err, len(w))
		}
		for _, p := range got {
			total := 0
			for k, c := range counts[p.ID] {
				total += c
				if p.Counts[k] != c {
					t.Errorf("%s: %s has %d at %s, want %d", name, p.ID, p.Counts[k], k, c)
				}
			}
			if p.Total() != total {
				t.Errorf("%s: %s has %d applications, want %d", name, p.ID, p.Total(), total)
			}
		}
	}

	// Positions created between two pages.
	hr := e.users[access.HRManager]
	f := recruit.PositionFilter{Limit: 7}
	first, err := e.svc.PositionsPage(ctx, hr, f)
	if err != nil || len(first.Positions) != 7 || first.Next == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	last := first.Positions[6]
	higher, lower := last.ID+"z", last.ID[:len(last.ID)-1]
	var late []recruit.ImportPosition
	for id, at := range map[string]time.Time{"pos-late": rows[n-1].created.Add(time.Hour), higher: last.CreatedAt, lower: last.CreatedAt, "pos-aaa-old": pagingT0.Add(-time.Hour)} {
		late = append(late, recruit.ImportPosition{ID: id, OwnerID: hr.UserID, Input: recruit.PositionInput{Title: id, Language: "en"}, Status: recruit.Draft, CreatedAt: at})
	}
	if err := e.svc.ImportPositions(ctx, e.tenantID, late); err != nil {
		t.Fatal(err)
	}
	e.svc.SetClock(func() time.Time { return last.CreatedAt })
	viaService, err := e.svc.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Via service", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	got := append(posIDs(first.Positions), posIDs(walk(hr, "positions after inserts", f, first.Next))...)
	original := want(func(posRow) bool { return true })
	var kept []string
	for _, id := range got {
		if slices.Contains(original, id) {
			kept = append(kept, id)
		}
	}
	sameIDs(t, "original positions walked while positions arrive", kept, original)
	for id, wantIn := range map[string]bool{"pos-late": false, higher: false, lower: true, "pos-aaa-old": true, viaService.ID: true} {
		if slices.Contains(got, id) != wantIn {
			t.Errorf("position %s written between pages: walked %v, want %v", id, !wantIn, wantIn)
		}
	}
}

// TestPoolPageWalk walks the shared pool (most recently changed first) as
// a recruiter and an HR manager, and while applications arrive in it.
func TestPoolPageWalk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	importPositions(t, e)
	rows := listRows(60)
	importRows(t, e, rows)
	w := want(rows, true, inPool)
	const limit = 7
	if len(w) <= 3*limit {
		t.Fatalf("the fixture's pool has %d rows", len(w))
	}
	walk := func(a access.Actor, name, after string) []*recruit.Application {
		return walkPages(t, name, limit, after, func(after string) ([]*recruit.Application, string, error) {
			p, err := e.svc.PoolPage(ctx, a, after, limit)
			if err != nil {
				return nil, "", err
			}
			if p.Total != len(w) || p.TotalCapped {
				t.Errorf("%s: pool total %d (capped %v), want %d", name, p.Total, p.TotalCapped, len(w))
			}
			return p.Applications, p.Next, nil
		}, func(a *recruit.Application) string { return a.ID })
	}
	rec := e.users[access.Recruiter]
	for _, who := range []string{access.Recruiter, access.HRManager} {
		got := walk(e.users[who], "pool of "+who, "")
		sameIDs(t, "pool of "+who, appIDs(got), w)
	}

	first, err := e.svc.PoolPage(ctx, rec, "", limit)
	if err != nil || len(first.Applications) != limit || first.Next == "" {
		t.Fatalf("first pool page: %+v %v", first, err)
	}
	last := first.Applications[limit-1]
	higher, lower := last.ID+"z", last.ID[:len(last.ID)-1]
	moved := func(id string, updated time.Time) row {
		return row{id: id, position: "pos-other", name: "Pia Pool", stage: access.StageInterview, created: pagingT0.Add(-time.Hour), updated: updated}
	}
	importRows(t, e, []row{moved("pool-newest", rows[0].updated.Add(72*time.Hour)), moved(higher, last.UpdatedAt), moved(lower, last.UpdatedAt), moved("aaa-pool-old", pagingT0)})
	// A candidate moved into the pool now is newer than every row walked.
	var outside string
	for _, r := range rows {
		if r.stage == access.StageNew {
			outside = r.id
			break
		}
	}
	e.svc.SetClock(func() time.Time { return pagingT0.Add(1000 * time.Hour) })
	if err := e.svc.Move(ctx, e.users[access.HRManager], outside, recruit.MoveInput{Kind: access.StageOffer}); err != nil {
		t.Fatal(err)
	}
	got := appIDs(first.Applications)
	rest := walkPages(t, "pool after inserts", limit, first.Next, func(after string) ([]*recruit.Application, string, error) {
		p, err := e.svc.PoolPage(ctx, rec, after, limit)
		if err != nil {
			return nil, "", err
		}
		return p.Applications, p.Next, nil
	}, func(a *recruit.Application) string { return a.ID })
	got = append(got, appIDs(rest)...)
	var kept []string
	for _, id := range got {
		if slices.Contains(w, id) {
			kept = append(kept, id)
		}
	}
	sameIDs(t, "original pool walked while candidates arrive", kept, w)
	for id, wantIn := range map[string]bool{"pool-newest": false, higher: false, lower: true, "aaa-pool-old": true, outside: false} {
		if slices.Contains(got, id) != wantIn {
			t.Errorf("pool row %s written between pages: walked %v, want %v", id, !wantIn, wantIn)
		}
	}
}

// TestMalformedCursors: a cursor a client made up is the first page, never
// an error, on every list; an out-of-range time never reaches the database.
func TestMalformedCursors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	importPositions(t, e)
	importRows(t, e, listRows(24))
	hr, rec := e.users[access.HRManager], e.users[access.Recruiter]
	cursors := []string{
		"", "garbage", ".", "..", "1.", ".app-001", "app-001", "1.2.3", "1.APP-001", "1.app 001", "1.app-001;drop",
		"9999999999999999999.x", "99999999999999999999999999.app-001", "18446744073709551616.x", "-1.app-001", "0.app-001",
		"-9223372036854775808.x", "9223372036854775807.x",
		"253402300799999999.app-001", // 9999-12-31T23:59:59.999999, after the latest a cursor may name
		"253402214400000001.app-001",
		"\xff\xfe", "1.\xff", "\xff.app-001", string([]byte{0xc3}), "１２.app-001", "1e9.app-001", "0x10.app-001",
		"1." + strings.Repeat("a", 65), strings.Repeat("9", 10000) + ".x",
		"1.\x00", "1.app-001\x00", "1.app-001\n",
	}
	// Well-formed cursors far in the future are accepted and still give every row.
	accepted := []string{"253402214400000000.zzz", "99999999999999999.app-001", "+253402214400000000.app-001"}
	list := func(a access.Actor, after string) ([]string, error) {
		p, err := e.svc.ListPage(ctx, a, recruit.ListFilter{After: after, Limit: 5})
		if err != nil {
			return nil, err
		}
		return appIDs(p.Applications), nil
	}
	e.indexed(t)
	listText := func(a access.Actor, after string) ([]string, error) {
		p, err := e.svc.ListPage(ctx, a, recruit.ListFilter{After: after, Limit: 2, Text: "dvorak", Stage: access.StageNew})
		if err != nil {
			return nil, err
		}
		return appIDs(p.Applications), nil
	}
	pool := func(a access.Actor, after string) ([]string, error) {
		p, err := e.svc.PoolPage(ctx, a, after, 5)
		if err != nil {
			return nil, err
		}
		return appIDs(p.Applications), nil
	}
	positions := func(a access.Actor, after string) ([]string, error) {
		p, err := e.svc.PositionsPage(ctx, a, recruit.PositionFilter{After: after, Limit: 2})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, p := range p.Positions {
			out = append(out, p.ID)
		}
		return out, nil
	}
	for _, l := range []struct {
		name  string
		a     access.Actor
		fetch func(access.Actor, string) ([]string, error)
	}{
		{"list as HR", hr, list}, {"list as recruiter", rec, list}, {"filtered list", hr, listText},
		{"pool", rec, pool}, {"positions", hr, positions},
	} {
		first, err := l.fetch(l.a, "")
		if err != nil || len(first) == 0 {
			t.Fatalf("%s: first page %v %v", l.name, first, err)
		}
		for _, c := range append(cursors, accepted...) {
			got, err := l.fetch(l.a, c)
			if err != nil {
				t.Errorf("%s: cursor %q: %v", l.name, c, err)
				continue
			}
			if !slices.Equal(got, first) {
				t.Errorf("%s: cursor %q gives %v, want the first page %v", l.name, c, got, first)
			}
		}
	}
}
