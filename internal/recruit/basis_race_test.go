package recruit_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestConsentRacesNewApplication: a consent recorded while a new
// application of the same candidate recomputes their bases is never lost.
// The recomputation used to read consent_until and write it back with the
// purpose; on PostgreSQL a consent committed in between was overwritten
// (the candidate kept the purpose alone and went at its end).
func TestConsentRacesNewApplication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hr := e.users[access.HRManager]
	first := e.position(t, access.HRManager, "Welder")
	second := e.position(t, access.HRManager, "Painter")
	for round := range 12 {
		email := fmt.Sprintf("rita%d@example.org", round)
		cid := e.apply(t, access.HRManager, first.ID, "Rita Race", email, access.StageNew).Candidate.ID
		var wg sync.WaitGroup
		start := make(chan struct{})
		var appErr, consentErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, appErr = e.svc.AddCandidate(ctx, hr, second.ID, recruit.CandidateInput{Name: "Rita Race", Email: email}, access.StageNew, recruit.ViaStaff)
		}()
		go func() {
			defer wg.Done()
			<-start
			consentErr = e.db.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
				_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: cid, Event: recruit.ConsentGranted,
					TextVersion: "test", Language: "en", Referral: recruit.ReferralManual, RecordedBy: hr.UserID}, time.Now())
				return err
			})
		}()
		close(start)
		wg.Wait()
		if appErr != nil || consentErr != nil {
			t.Fatalf("round %d: application: %v, consent: %v", round, appErr, consentErr)
		}
		b := e.bases(t, cid)
		if b.ConsentUntil.IsZero() {
			t.Errorf("round %d: the consent was lost: bases %+v", round, b)
			continue
		}
		if b.PurposeUntil.IsZero() || !b.Until.Equal(b.ConsentUntil) || b.Until.Before(b.PurposeUntil) {
			t.Errorf("round %d: bases %+v, want the consent's end (later than the purpose's) as the basis", round, b)
		}
	}
}
