package recruit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// countKey is one counter of application_counts.
type countKey struct{ position, stage string }

// countsOf reads the counters and the applications they count, in one
// read transaction of the company.
func countsOf(t *testing.T, e *env) (counters, actual map[countKey]int) {
	t.Helper()
	counters, actual = map[countKey]int{}, map[countKey]int{}
	read := func(tx *sql.Tx, q string, into map[countKey]int) error {
		rows, err := tx.Query(q, e.tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k countKey
			var n int
			if err := rows.Scan(&k.position, &k.stage, &n); err != nil {
				return err
			}
			into[k] = n
		}
		return rows.Err()
	}
	err := e.db.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		if err := read(tx, `SELECT position_id, stage_id, n FROM application_counts WHERE tenant_id = $1`, counters); err != nil {
			return err
		}
		return read(tx, `SELECT position_id, stage_id, count(*) FROM applications WHERE tenant_id = $1 GROUP BY position_id, stage_id`, actual)
	})

	if err != nil {
		t.Fatal(err)
	}
	return counters, actual
}

// checkCounts fails on any counter that differs from the applications it
// counts, and on any negative counter.
func checkCounts(t *testing.T, e *env) int {
	t.Helper()
	counters, actual := countsOf(t, e)
	total := 0
	for k, n := range counters {
		if n < 0 {
			t.Errorf("counter %v is negative: %d", k, n)
		}
		if n != actual[k] {
			t.Errorf("counter %v is %d, the applications are %d", k, n, actual[k])
		}
	}
	for k, n := range actual {
		total += n
		if _, ok := counters[k]; !ok {
			t.Errorf("no counter for %v, which has %d applications", k, n)
		}
	}
	return total
}

// TestApplicationCountsUnderConcurrency: goroutines add candidates, move
// applications between stages (by kind and to a given stage), move them to
// another position, and delete applications and candidates (a cascade), all
// at once; afterwards every counter equals the applications it counts, none
// is negative, and the position page and the list's total say the same.
func TestApplicationCountsUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	tctx := ctx

	// Three positions, few stages: the counters are hot. The second
	// position has two interview stages, so that moves within one kind
	// count too.
	var positions []string
	stages := map[string][]recruit.Stage{}
	for i := range 3 {
		p := e.position(t, access.HRManager, fmt.Sprintf("Position %d", i))
		positions = append(positions, p.ID)
	}
	st, err := e.svc.Stages(ctx, hr, positions[1])
	if err != nil {
		t.Fatal(err)
	}
	var edits []recruit.StageEdit
	for _, s := range st {
		edits = append(edits, recruit.StageEdit{ID: s.ID})
		if s.Kind == access.StageInterview {
			edits = append(edits, recruit.StageEdit{Name: "Technical interview", Kind: access.StageInterview})
		}
	}
	if err := e.svc.SetStages(ctx, hr, positions[1], edits); err != nil {
		t.Fatal(err)
	}
	for _, p := range positions {
		if stages[p], err = e.svc.Stages(ctx, hr, p); err != nil {
			t.Fatal(err)
		}
	}

	type app struct{ id, candidate, position string }
	var (
		mu   sync.Mutex
		live []app
	)
	add := func(a app) {
		mu.Lock()
		live = append(live, a)
		mu.Unlock()
	}
	pick := func(r *rand.Rand, remove bool) (app, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(live) == 0 {
			return app{}, false
		}
		i := r.IntN(len(live))
		a := live[i]
		if remove {
			live = slices.Delete(live, i, i+1)
		}
		return a, true
	}
	setPosition := func(id, position string) {
		mu.Lock()
		defer mu.Unlock()
		for i := range live {
			if live[i].id == id {
				live[i].position = position
			}
		}
	}
	for i := range 24 {
		a := e.apply(t, access.HRManager, positions[i%3], fmt.Sprintf("Seed %d", i), fmt.Sprintf("seed%d@example.org", i), access.StageKinds[i%len(access.StageKinds)])
		add(app{a.ID, a.Candidate.ID, positions[i%3]})
	}
	checkCounts(t, e)

	const workers, opsEach = 8, 40
	ops := []string{"add", "add", "add", "move", "move", "move-to-stage", "move-to-stage", "delete", "delete-candidate", "change-position"}
	var done [10]atomic.Int64
	var (
		errMu sync.Mutex
		errs  []string
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range opsEach {
				op := r.IntN(len(ops))
				var err error
				var target string
				switch ops[op] {
				case "add":
					pos := positions[r.IntN(len(positions))]
					var a *recruit.Application
					a, err = e.svc.AddCandidate(ctx, hr, pos, recruit.CandidateInput{Name: fmt.Sprintf("Worker %d op %d", w, i), Email: fmt.Sprintf("w%d-%d@example.org", w, i)},
						access.StageKinds[r.IntN(len(access.StageKinds))], recruit.ViaStaff)
					if err == nil {
						add(app{a.ID, a.Candidate.ID, pos})
					}
				case "move":
					a, ok := pick(r, false)
					if !ok {
						continue
					}
					target = a.id
					err = e.svc.Move(ctx, hr, a.id, recruit.MoveInput{Kind: access.StageKinds[r.IntN(len(access.StageKinds))], Reason: "other"})
				case "move-to-stage":
					a, ok := pick(r, false)
					if !ok {
						continue
					}
					target = a.id
					ss := stages[a.position]
					err = e.svc.Move(ctx, hr, a.id, recruit.MoveInput{StageID: ss[r.IntN(len(ss))].ID, Reason: "other"})
					var ve *fault.Invalid
					if errors.As(err, &ve) && ve.Fields["stage"] != "" {
						err = nil // the application changed position meanwhile
					}
				case "delete":
					a, ok := pick(r, true)
					if !ok {
						continue
					}
					target = a.id
					err = e.db.InTx(tctx, e.tenantID, func(tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, `DELETE FROM applications WHERE tenant_id = $1 AND id = $2`, e.tenantID, a.id)
						return err
					})
				case "delete-candidate":
					a, ok := pick(r, true)
					if !ok {
						continue
					}
					target = a.candidate
					// Every candidate here has one application: the cascade deletes it.
					err = e.db.InTx(tctx, e.tenantID, func(tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, a.candidate)
						return err
					})
				case "change-position":
					a, ok := pick(r, false)
					if !ok {
						continue
					}
					target = a.id
					to := positions[r.IntN(len(positions))]
					// The application keeps its kind of stage, at the new position's first stage of that kind.
					err = e.db.InTx(tctx, e.tenantID, func(tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, `UPDATE applications SET position_id = $3,
							stage_id = (SELECT s.id FROM position_stages s WHERE s.tenant_id = $1 AND s.position_id = $3 AND s.kind = applications.stage ORDER BY s.ord, s.id LIMIT 1)
							WHERE tenant_id = $1 AND id = $2`, e.tenantID, a.id, to)
						return err
					})
					if err == nil {
						setPosition(a.id, to)
					}
				}
				if errors.Is(err, recruit.ErrNotFound) {
					err = nil // deleted by another goroutine meanwhile
				}
				if err != nil {
					errMu.Lock()
					errs = append(errs, fmt.Sprintf("worker %d, %s %s: %v", w, ops[op], target, err))
					errMu.Unlock()
					continue
				}
				done[op].Add(1)
			}
		})
	}
	wg.Wait()
	for _, msg := range errs {
		kind := ""
		if strings.Contains(msg, "40P01") || strings.Contains(msg, "deadlock") {
			kind = " (deadlock)"
		}
		t.Errorf("concurrent operation failed%s: %s", kind, msg)
	}
	byOp := map[string]int64{}
	for i, name := range ops {
		byOp[name] += done[i].Load()
	}
	for _, name := range slices.Sorted(maps.Keys(byOp)) {
		if byOp[name] == 0 {
			t.Errorf("no %s succeeded: the race did not happen (%v)", name, byOp)
		}
	}
	t.Logf("operations done: %v", byOp)

	total := checkCounts(t, e)
	// The position page and the list's total read the counters.
	var direct int
	if err := e.db.ReadTx(tctx, e.tenantID, func(tx *sql.Tx) error {
		return tx.QueryRow(`SELECT count(*) FROM applications WHERE tenant_id = $1`, e.tenantID).Scan(&direct)
	}); err != nil {
		t.Fatal(err)
	}
	if total != direct {
		t.Fatalf("grouped counts %d, all applications %d", total, direct)
	}
	page, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{Limit: 1})
	if err != nil || page.Total != direct || page.TotalCapped {
		t.Errorf("the list's total is %d (capped %v, %v), the applications %d", page.Total, page.TotalCapped, err, direct)
	}
	for _, id := range positions {
		p, err := e.svc.Position(ctx, hr, id)
		if err != nil {
			t.Fatal(err)
		}
		kinds, byStage := map[access.StageKind]int{}, map[string]int{}
		err = e.db.ReadTx(tctx, e.tenantID, func(tx *sql.Tx) error {
			rows, err := tx.Query(`SELECT stage, stage_id FROM applications WHERE tenant_id = $1 AND position_id = $2`, e.tenantID, id)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var kind, stage string
				if err := rows.Scan(&kind, &stage); err != nil {
					return err
				}
				kinds[access.StageKind(kind)]++
				byStage[stage]++
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range access.StageKinds {
			if p.Counts[k] != kinds[k] {
				t.Errorf("%s: Counts[%s] = %d, the applications %d", p.Title, k, p.Counts[k], kinds[k])
			}
		}
		for _, s := range stages[id] {
			if p.StageCounts[s.ID] != byStage[s.ID] {
				t.Errorf("%s: StageCounts[%s] = %d, the applications %d", p.Title, s.ID, p.StageCounts[s.ID], byStage[s.ID])
			}
		}
		f, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{PositionID: id, Limit: 1})
		if err != nil || f.Total != p.Total() {
			t.Errorf("%s: the list's total %d (%v), the position's %d", p.Title, f.Total, err, p.Total())
		}
	}
}
