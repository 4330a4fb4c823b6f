package privacy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
)

// BenchmarkSweep erases batches of expired candidates, each with the
// history a real one has (a CV, comments, a rating, a label, a task, an
// interview, a message), and reports erasures per second. The figure at
// real size (100,000 candidates, with staff pages timed meanwhile) comes
// from scripts/bench-sweep.sh; docs/benchmarks.md has both.
func BenchmarkSweep(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	const perRound = 1000
	total := 0
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		e.importExpired(b, i, perRound)
		b.StartTimer()
		start := time.Now()
		rep, err := e.svc.Sweep(ctx, privacy.SweepOptions{TenantID: e.tenantID})
		elapsed += time.Since(start)
		if err != nil || rep.Total != perRound {
			b.Fatalf("sweep: %+v %v", rep, err)
		}
		total += rep.Total
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "erasures/s")
}

// importExpired imports n candidates who applied a year ago, with their history.
func (e *env) importExpired(tb testing.TB, round, n int) {
	tb.Helper()
	at := time.Now().AddDate(-1, 0, 0)
	apps := make([]recruit.ImportApplication, n)
	for i := range apps {
		ev := func(k, text string) recruit.ImportEvent {
			return recruit.ImportEvent{At: at.Add(time.Hour), ActorID: e.hr.UserID, Kind: k, ID: id.New(), Text: text, Body: "Body of " + text}
		}
		apps[i] = recruit.ImportApplication{
			Candidate:  recruit.CandidateInput{Name: fmt.Sprintf("Bench Person%d", i), Email: fmt.Sprintf("bench-%d-%d@example.org", round, i), Phone: "+46701234567"},
			PositionID: e.position.ID, CreatedAt: at, ViaCareerPage: true, ConsentLang: "en", CoverLetter: "A cover letter.",
			Documents: []recruit.ImportDocument{{Kind: "cv", Name: "cv.txt", Data: []byte("Curriculum vitae of a bench person.\n")}},
			Events: []recruit.ImportEvent{ev("comment", "A comment"), {At: at.Add(time.Hour), ActorID: e.hr.UserID, Kind: "rating", Value: "invite"},
				ev("label", "bench"), ev("task", "Call back"), {At: at.Add(2 * time.Hour), ActorID: e.hr.UserID, Kind: "move", Stage: access.StageInterview}},
		}
	}
	for len(apps) > 0 {
		k := min(len(apps), 250)
		if err := e.kit.Recruit.ImportApplications(context.Background(), e.tenantID, apps[:k]); err != nil {
			tb.Fatal(err)
		}
		apps = apps[k:]
	}
}
