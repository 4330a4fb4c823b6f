package recruit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/synth"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// BenchmarkMatches times Matches for one position, as the position's
// Matches tab asks it, in a company of 600 candidates who applied through
// the career page with a synthetic CV in one of five languages, a comment
// and a label each, a third of them with the required skills in their
// profile: the ranking of the pool, the candidates' rows and skills, and
// the explanation of the best 100 (which of the position's terms each
// holds). The position is a synthetic one (title and description) that
// requires Go and PostgreSQL. Building the corpus takes a few seconds.
//
//	go test -run '^$' -bench Matches -benchtime 200x ./internal/recruit/
func BenchmarkMatches(b *testing.B) {
	ctx := context.Background()
	k := testkit.New(b, testkit.Options{})
	co := k.Company(b, tenant.CreateInput{Slug: "acme", Name: "ACME", DefaultLanguage: "en", Modules: []tenant.Module{tenant.Recruitment}})
	hr := k.Actor(b, co.ID, "hr-manager", access.HRManager)
	if _, err := k.Credits.GrantAsOperator(ctx, co.ID, credit.GrantInput{Amount: 20, Reason: "purchase"}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	langs := []string{"en", "sv", "nb", "cs", "sk"}
	var applied []*recruit.Position
	for i := range 5 {
		pt := synth.Position(r, langs[i])
		p, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: pt.Title, Description: pt.Description, Language: langs[i]})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Recruit.Publish(ctx, hr, p.ID); err != nil {
			b.Fatal(err)
		}
		applied = append(applied, p)
	}
	const n = 600
	for i := range n {
		p := applied[i%len(applied)]
		person := synth.NewPerson(r, synth.Countries[i%len(synth.Countries)])
		cv := strings.Join(synth.CV(r, person, p.Title), "\n")
		app, err := k.Recruit.Apply(ctx, co.ID, p.ID, recruit.ApplyInput{Name: person.Name, Email: fmt.Sprintf("p%d@example.org", i),
			CV: &recruit.Upload{Name: "cv.txt", Data: []byte(cv)}, SubmissionID: id.New()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Recruit.AddComment(ctx, hr, app.ID, synth.Comment(r, person.Language)); err != nil {
			b.Fatal(err)
		}
		if err := k.Recruit.AddLabel(ctx, hr, app.ID, []string{"senior", "junior", "remote"}[i%3]); err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			if err := k.Recruit.SaveProfile(ctx, hr, app.ID, recruit.ProfileInput{Skills: [][]string{{"Go"}, {"PostgreSQL"}, {"Go", "PostgreSQL"}}[i/3%3]}); err != nil {
				b.Fatal(err)
			}
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
	for {
		done, err := k.Recruit.IndexQueued(ctx, 500)
		if err != nil {
			b.Fatal(err)
		}
		if done == 0 {
			break
		}
	}
	pt := synth.Position(r, "en")
	pos, err := k.Recruit.CreatePosition(ctx, hr, recruit.PositionInput{Title: pt.Title, Description: pt.Description, Language: "en",
		Skills: []string{"Go", "PostgreSQL"}})
	if err != nil {
		b.Fatal(err)
	}
	got, mq, err := k.Recruit.MatchesWith(ctx, hr, pos.ID, recruit.MaxMatches)
	if err != nil {
		b.Fatal(err)
	}
	explained := 0
	for _, m := range got {
		if len(m.MatchedTerms) > 0 {
			explained++
		}
	}
	if len(got) < recruit.MaxMatches || explained == 0 {
		b.Fatalf("%d matches, %d with terms, for %d terms: the corpus does not exercise the explanation", len(got), explained, len(mq.Terms))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := k.Recruit.Matches(ctx, hr, pos.ID, recruit.MaxMatches); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(mq.Terms)), "terms")
}
