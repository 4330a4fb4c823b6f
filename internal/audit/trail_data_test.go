package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
)

// trailShape names values of a synthetic company's trail that filters can
// look for: a busy recruiter, an application with a handful of records, a
// position with many, and the time span.
type trailShape struct {
	recruiter, rareActor     string
	signInOnly               string // a user who only signs in
	application, position    string
	candidate                string
	first, last              time.Time
	records                  int
	applications, positions  int
	batchSize, batches       int
	buildTime                time.Duration
	recordsPerSecondDuringIt float64
}

// buildTrail writes about n records of one company's recruitment over two
// years through audit.Batch (as the seed and imports do), in transactions
// of 5,000 records: per application, its creation (application, candidate
// and position), three stage changes, a comment, a rating and a read in
// the security log; between them, sign-ins, and now and then an
// administrator's change or a credit spent. Deterministic for a seed.
func buildTrail(tb testing.TB, l *audit.Log, d *db.DB, tenantID string, n int, seed uint64) trailShape {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	users := make([]string, 40)
	for i := range users {
		users[i] = fmt.Sprintf("%s-user-%02d", tenantID, i)
	}
	s := trailShape{recruiter: users[1], rareActor: users[0], signInOnly: users[35]}
	s.first = time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	span := 2 * 365 * 24 * time.Hour
	const perApplication = 8 // about: 7 lifecycle records and a sign-in
	apps := max(n/perApplication, 1)
	positions := max(apps/50, 1)
	s.applications, s.positions = apps, positions
	step := span / time.Duration(apps)
	start := time.Now()
	const batch = 5000
	var pending []audit.Event
	flush := func() {
		if len(pending) == 0 {
			return
		}
		err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			b := l.Batch(tx)
			for _, e := range pending {
				if err := b.Record(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("build the trail: %v", err)
		}
		s.records += len(pending)
		s.batches++
		pending = pending[:0]
	}
	add := func(e audit.Event) {
		e.TenantID = tenantID
		pending = append(pending, e)
		if len(pending) >= batch {
			flush()
		}
	}
	stages := []string{"new", "preselected", "interview", "offer", "hired"}
	for i := 0; i < apps && s.records+len(pending) < n; i++ {
		at := s.first.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step))))
		app := fmt.Sprintf("%s-app-%07d", tenantID, i)
		cand := fmt.Sprintf("%s-cand-%07d", tenantID, i)
		pos := fmt.Sprintf("%s-pos-%05d", tenantID, i%positions)
		actor := users[1+rng.IntN(20)]
		if i%3 == 0 {
			actor = s.recruiter
		}
		objs := []audit.Ref{{Kind: "application", ID: app}, {Kind: "candidate", ID: cand}}
		add(audit.Event{Action: audit.ApplicationCreated, Actor: audit.User(actor), Time: at,
			Objects: append(objs[:2:2], audit.Ref{Kind: "position", ID: pos}), Details: map[string]string{"via": "staff", "stage": "new"}})
		for k := 1; k <= 3; k++ {
			add(audit.Event{Action: audit.StageChanged, Actor: audit.User(actor), Time: at.Add(time.Duration(k) * 36 * time.Hour), Objects: objs,
				Details: map[string]string{"stage": stages[k], "previous_stage": stages[k-1]}})
		}
		add(audit.Event{Action: audit.ApplicationCommented, Actor: audit.User(users[1+rng.IntN(30)]), Time: at.Add(40 * time.Hour),
			Objects: append(objs[:2:2], audit.Ref{Kind: "comment", ID: fmt.Sprintf("%s-comment-%07d", tenantID, i)})})
		add(audit.Event{Action: audit.ApplicationRated, Actor: audit.User(users[1+rng.IntN(30)]), Time: at.Add(50 * time.Hour), Objects: objs,
			Details: map[string]string{"rating": "invite"}})
		add(audit.Event{Action: audit.AccessDecided, Actor: audit.User(users[1+rng.IntN(30)]), Time: at.Add(51 * time.Hour), Objects: objs,
			Details: map[string]string{"permission": "applications.view", "decision": "allow"}})
		u := users[rng.IntN(38)]
		add(audit.Event{Action: audit.SignInSucceeded, Actor: audit.User(u), Time: at.Add(time.Minute), Objects: []audit.Ref{{Kind: "user", ID: u}},
			Details: map[string]string{"ip": "192.0.2.1", "method": "password"}})
		switch {
		case i%997 == 0:
			add(audit.Event{Action: audit.UserRoleChanged, Actor: audit.User(users[0]), Time: at.Add(2 * time.Minute), Objects: []audit.Ref{{Kind: "user", ID: u}},
				Details: map[string]string{"role": "recruiter", "previous_role": "line_manager"}})
		case i%101 == 0:
			add(audit.Event{Action: audit.CreditsSpent, Actor: audit.User(actor), Time: at.Add(3 * time.Minute), Objects: []audit.Ref{{Kind: "position", ID: pos}},
				Details: map[string]string{"amount": "1", "balance": "10", "reason": "publication"}})
		}
		if i == apps/2 {
			s.application, s.candidate = app, cand
		}
	}
	flush()
	s.position = fmt.Sprintf("%s-pos-%05d", tenantID, (apps/2)%positions)
	s.last = s.first.Add(span)
	s.batchSize = batch
	s.buildTime = time.Since(start)
	s.recordsPerSecondDuringIt = float64(s.records) / s.buildTime.Seconds()
	if err := d.Analyze(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}
