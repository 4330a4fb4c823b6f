package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/synth"
)

// positions creates n positions over the history, in batches.
func (g *gen) positions(ctx context.Context, d Deps, c *company, n int) error {
	start, end := g.historyStart().AddDate(0, -1, 0), g.o.Now.AddDate(0, 0, -7)
	times := make([]time.Time, n)
	for i := range times {
		times[i] = g.between(start, end)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var batch []recruit.ImportPosition
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := d.Recruit.ImportPositions(ctx, c.t.ID, batch)
		batch = batch[:0]
		return err
	}
	for i, created := range times {
		lang := c.language
		if g.chance(0.4) {
			lang = "en"
		}
		text := synth.Position(g.r, lang)
		p := seededPosition{id: g.id(created), owner: c.recruiters[g.pick(len(c.recruiters))], language: lang, title: text.Title, created: created}
		// Popularity: a few positions draw most applicants, as on any career page.
		p.weight = 1 + g.pick(4)*g.pick(4)*g.pick(4)
		if len(c.lineMgrs) > 0 && g.chance(0.3) {
			p.members = []string{c.lineMgrs[g.pick(len(c.lineMgrs))]}
		}
		status := recruit.Closed
		var published *time.Time
		switch age := g.o.Now.Sub(created); {
		case age < 90*24*time.Hour && g.chance(0.8):
			status = recruit.Published
		case age < 90*24*time.Hour:
			status = recruit.Draft
		case g.chance(0.4):
			status = recruit.Archived
		}
		if status != recruit.Draft {
			t := created.Add(time.Duration(1+g.pick(48)) * time.Hour)
			published = &t
		}
		types := recruit.EmploymentTypes
		batch = append(batch, recruit.ImportPosition{ID: p.id, OwnerID: p.owner, Status: status, CreatedAt: created, PublishedAt: published, Members: p.members,
			Input: recruit.PositionInput{Title: text.Title, Department: text.Department, Location: text.Location, Language: lang,
				Description: text.Description, EmploymentType: types[min(len(types)-1, g.pick(len(types)*2)/2)]}})
		c.positions = append(c.positions, p)
		if len(batch) == 200 || i == n-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// outcome is where an application's path ends, with its weight.
var outcomes = []struct {
	stage  access.StageKind
	weight int
}{
	{access.StageNew, 20}, {access.StagePreselected, 14}, {access.StageInterview, 10}, {access.StageOffer, 3},
	{access.StageHired, 3}, {access.StageRejected, 50},
}

// candidates creates size candidates with their applications, oldest first.
func (g *gen) candidates(ctx context.Context, d Deps, c *company, size int) error {
	start, end := g.historyStart(), g.o.Now.Add(-time.Hour)
	span := end.Sub(start)
	cum := make([]int, len(c.positions))
	sum := 0
	for i, p := range c.positions {
		sum += p.weight
		cum[i] = sum
	}
	home := ""
	for _, country := range synth.Countries {
		if synth.LanguageOf(country) == c.language {
			home = country
		}
	}
	var batch []recruit.ImportApplication
	done := 0 // candidates of the batch
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := d.Recruit.ImportApplications(ctx, c.t.ID, batch); err != nil {
			return err
		}
		g.mu.Lock()
		if g.o.Progress != nil {
			g.o.Progress.Add(len(batch))
		}
		g.res.Applications += len(batch)
		for _, a := range batch {
			g.res.Documents += len(a.Documents)
		}
		g.res.Candidates += done
		done = 0
		g.mu.Unlock()
		batch = batch[:0]
		return nil
	}
	for i := range size {
		if err := ctx.Err(); err != nil {
			return err
		}
		country := home
		if country == "" || g.chance(0.5) {
			country = synth.Countries[g.pick(len(synth.Countries))]
		}
		person := synth.NewPerson(g.r, country)
		first := start.Add(time.Duration(float64(span) * (float64(i) + g.r.Float64()) / float64(size)))
		g.seq++
		email := fmt.Sprintf("%s.%d.%d@%s", synth.EmailLocal(person), g.idx+1, g.seq, []string{"example.org", "example.com", "example.net"}[g.pick(3)])
		k := 1 + g.pick(2*ApplicationsPerCandidate-1)
		var chosen []int
		for attempt := 0; len(chosen) < k && attempt < 4*k; attempt++ {
			j := sort.SearchInts(cum, 1+g.pick(sum))
			if !slices.Contains(chosen, j) && c.positions[j].created.Before(end) {
				chosen = append(chosen, j)
			}
		}
		candidateID := g.id(first)
		var profile *recruit.ProfileInput
		if len(chosen) > 0 {
			// The profile draws from its own stream (per company and
			// candidate), so the rest of the data is what it was before
			// profiles existed.
			pr := rand.New(rand.NewPCG(g.o.Seed, uint64(g.idx+1)<<40|g.seq))
			profile = profileInput(person, synth.Profile(pr, person, c.positions[chosen[0]].title))
		}
		withCV := g.chance(g.o.Scale.DocumentShare)
		at := first
		for n, j := range chosen {
			p := c.positions[j]
			if at.Before(p.created) {
				at = p.created.Add(time.Duration(1+g.pick(240)) * time.Hour)
			}
			if !at.Before(end) {
				at = end.Add(-time.Duration(1+g.pick(60)) * time.Minute)
			}
			a := g.application(c, p, person, email, candidateID, at, withCV && n == 0)
			if n == 0 {
				a.Profile = profile
			}
			batch = append(batch, a)
			at = at.Add(time.Duration(g.pick(30*24)) * time.Hour)
		}
		done++
		if len(batch) >= g.o.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// application draws one application and what colleagues did with it.
func (g *gen) application(c *company, p seededPosition, person synth.Person, email, candidateID string, at time.Time, withCV bool) recruit.ImportApplication {
	end := g.o.Now.Add(-time.Minute)
	career := g.chance(0.85)
	a := recruit.ImportApplication{ID: g.id(at), CandidateID: candidateID, PositionID: p.id, CreatedAt: at,
		Candidate:     recruit.CandidateInput{Name: person.Name, Email: email, Phone: person.Phone},
		ViaCareerPage: career, TalentPool: g.chance(0.4), ConsentLang: p.language, AddedBy: p.owner}
	if career {
		a.Source = []string{"", "", "linkedin", "jobs.cz", "profesia", "finn", "arbetsformedlingen", "indeed", "referral"}[g.pick(9)]
		if g.chance(0.5) {
			a.CoverLetter = synth.CoverLetter(g.r, person, p.title)
		}
		a.Events = append(a.Events, g.message(at.Add(time.Minute), p.owner, recruit.TemplateAcknowledgement, p, person))
	}
	if withCV {
		lines := synth.CV(g.r, person, p.title)
		family := synth.EmailLocal(synth.Person{FamilyName: person.FamilyName}) // ASCII, lower case
		if g.chance(0.7) {
			a.Documents = append(a.Documents, recruit.ImportDocument{ID: g.id(at), Kind: "cv", Name: "CV-" + family + ".pdf", Data: synth.PDF(lines)})
		} else {
			a.Documents = append(a.Documents, recruit.ImportDocument{ID: g.id(at), Kind: "cv", Name: "CV-" + family + ".docx", Data: synth.DOCX(lines)})
		}
	}
	// The path: forward through the stages to the outcome, or rejected on the way.
	total := 0
	for _, o := range outcomes {
		total += o.weight
	}
	roll, outcome := g.pick(total), access.StageNew
	for _, o := range outcomes {
		if roll < o.weight {
			outcome = o.stage
			break
		}
		roll -= o.weight
	}
	path := []access.StageKind{access.StagePreselected, access.StageInterview, access.StageOffer, access.StageHired}
	var steps []access.StageKind
	if outcome == access.StageRejected {
		steps = append(path[:g.pick(3)], access.StageRejected)
	} else {
		steps = path[:slices.Index(access.StageKinds, outcome)]
	}
	steps = slices.Clone(steps)
	t := at
	actors := append([]string{p.owner}, p.members...)
	for _, st := range steps {
		t = t.Add(time.Duration(12+g.pick(24*10)) * time.Hour)
		if t.After(end) {
			break
		}
		by := p.owner
		a.Events = append(a.Events, recruit.ImportEvent{At: t, ActorID: by, Kind: "move", Stage: st, Reason: recruit.RejectionReasons[g.pick(len(recruit.RejectionReasons))]})
		switch st {
		case access.StageRejected:
			if career && g.chance(0.6) {
				a.Events = append(a.Events, g.message(t.Add(time.Minute), by, recruit.TemplateRejection, p, person))
			}
		case access.StageInterview:
			iv := recruit.ImportEvent{At: t.Add(time.Hour), ActorID: by, Kind: "interview", ID: g.id(t), Value: p.language,
				Text: []string{"Office, meeting room 2", "Head office", "Video call"}[g.pick(3)], Participants: p.members}
			a.Events = append(a.Events, iv, g.message(t.Add(time.Hour+time.Minute), by, recruit.TemplateInvitation, p, person))
			for _, m := range p.members {
				a.Events = append(a.Events, recruit.ImportEvent{At: t.Add(80 * time.Hour), ActorID: m, Kind: "rating",
					Value: recruit.RatingValues[g.pick(len(recruit.RatingValues))]})
			}
		}
		if g.chance(0.35) {
			a.Events = append(a.Events, recruit.ImportEvent{At: t.Add(30 * time.Minute), ActorID: actors[g.pick(len(actors))], Kind: "comment",
				ID: g.id(t), Text: synth.Comment(g.r, p.language)})
		}
	}
	if g.chance(0.1) {
		a.Events = append(a.Events, recruit.ImportEvent{At: at.Add(2 * time.Hour), ActorID: p.owner, Kind: "label", Text: labels[g.pick(len(labels))]})
	}
	if g.chance(0.05) {
		done := "open"
		if g.chance(0.7) {
			done = "done"
		}
		a.Events = append(a.Events, recruit.ImportEvent{At: at.Add(3 * time.Hour), ActorID: p.owner, Kind: "task", ID: g.id(at),
			Text: []string{"Call the candidate", "Check references", "Send the assignment", "Book a second interview"}[g.pick(4)], Value: done})
	}
	slices.SortStableFunc(a.Events, func(x, y recruit.ImportEvent) int { return x.At.Compare(y.At) })
	for i := range a.Events {
		if a.Events[i].At.After(end) {
			a.Events = a.Events[:i]
			break
		}
	}
	return a
}

// message is an email sent to the candidate then.
func (g *gen) message(at time.Time, by, kind string, p seededPosition, person synth.Person) recruit.ImportEvent {
	subject := map[string]string{
		recruit.TemplateAcknowledgement: "We received your application: " + p.title,
		recruit.TemplateRejection:       "Your application: " + p.title,
		recruit.TemplateInvitation:      "Invitation to an interview: " + p.title,
	}[kind]
	body := "Dear " + person.Name + ",\n\n" + subject + ".\n"
	return recruit.ImportEvent{At: at, ActorID: by, Kind: "message", ID: g.id(at), Value: kind, Text: subject, Body: body}
}

// profileInput is an invented profile as the importer takes it.
func profileInput(p synth.Person, t synth.ProfileText) *recruit.ProfileInput {
	in := &recruit.ProfileInput{City: p.City, Country: p.Country, Title: t.Title, Employer: t.Employer, LinkedIn: t.LinkedIn, Skills: t.Skills}
	if t.NoticeWeeks >= 0 {
		in.Notice = strconv.Itoa(t.NoticeWeeks)
	}
	if t.Salary > 0 {
		in.SalaryAmount, in.SalaryCurrency, in.SalaryPeriod = strconv.FormatInt(t.Salary, 10), t.Currency, t.Period
	}
	for _, l := range t.Languages {
		in.Languages = append(in.Languages, recruit.Language{Code: l[0], Level: l[1]})
	}
	return in
}
