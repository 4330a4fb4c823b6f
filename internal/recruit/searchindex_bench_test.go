package recruit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// BenchmarkIndexCandidate is what the search index costs a candidate: the
// job's rewrite of one entry (the candidate, the title applied to, a label,
// a comment and a one-page CV's text read from the file store), measured
// over 200 candidates queued at once. The change itself pays only the
// queue's trigger.
func BenchmarkIndexCandidate(b *testing.B) {
	ctx := context.Background()
	k := testkit.New(b, testkit.Options{})
	co := k.Company(b, tenant.CreateInput{Slug: "acme", Name: "ACME", DefaultLanguage: "en", Modules: []tenant.Module{tenant.Recruitment}})
	hr := k.Actor(b, co.ID, "hr-manager", access.HRManager)
	pos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: "Backend Engineer", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := k.Recruit.Publish(ctx, hr, pos.ID); err != nil {
		b.Fatal(err)
	}
	cv := strings.Repeat("Experienced engineer: Go, PostgreSQL, Kubernetes, distributed systems, Stockholm. ", 40)
	const n = 200
	for i := range n {
		app, err := k.Recruit.Apply(ctx, co.ID, pos.ID, recruit.ApplyInput{Name: fmt.Sprintf("Person %d Svensson", i), Email: fmt.Sprintf("p%d@example.org", i),
			CV: &recruit.Upload{Name: "cv.txt", Data: []byte(cv)}, SubmissionID: id.New()})
		if err != nil {
			b.Fatal(err)
		}
		if err := k.Recruit.AddLabel(ctx, hr, app.ID, "senior"); err != nil {
			b.Fatal(err)
		}
		if _, err := k.Recruit.AddComment(ctx, hr, app.ID, "Good systems design interview."); err != nil {
			b.Fatal(err)
		}
	}
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	for {
		done, err := k.Recruit.ExtractTexts(ctx, x, 50)
		if err != nil {
			b.Fatal(err)
		}
		if done == 0 {
			break
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := k.Recruit.Reindex(ctx, co.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*n), "µs/candidate")
}
