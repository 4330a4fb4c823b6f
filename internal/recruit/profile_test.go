package recruit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// card reads an application's card as the HR manager.
func (e *env) card(t *testing.T, applicationID string) *recruit.CardView {
	t.Helper()
	v, err := e.svc.CardView(context.Background(), e.users[access.HRManager], applicationID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// vocabulary is the company's skill vocabulary, by name.
func (e *env) vocabulary(t *testing.T) []string {
	t.Helper()
	skills, err := e.svc.Skills(context.Background(), e.users[access.HRManager])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range skills {
		out = append(out, s.Name)
	}
	return out
}

func fullProfile() recruit.ProfileInput {
	return recruit.ProfileInput{City: " Malmö ", Country: "se", Title: "Backend developer", Employer: "Acme AB",
		LinkedIn: "https://www.linkedin.com/in/anna", Portfolio: "https://anna.example.org/work", Notice: "4",
		SalaryAmount: "55 000", SalaryCurrency: "sek", SalaryPeriod: "month", Skills: []string{"Go", " postgreSQL ", "go"},
		Languages: recruit.ParseLanguages("sv:native, en:c1")}
}

// TestSaveProfileValidation: each bad field is refused on its own key, and
// nothing is stored.
func TestSaveProfileValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.HRManager, "Developer")
	app := e.apply(t, access.HRManager, p.ID, "Anna Berg", "anna@example.org", access.StageNew)
	long := strings.Repeat("x", 121)
	for _, tc := range []struct {
		name  string
		edit  func(*recruit.ProfileInput)
		field string
		key   string
	}{
		{"city too long", func(in *recruit.ProfileInput) { in.City = strings.Repeat("å", 101) }, "profile_city", "error.profile_city"},
		{"city control", func(in *recruit.ProfileInput) { in.City = "Malmö\x07" }, "profile_city", "error.profile_city"},
		{"country unknown", func(in *recruit.ProfileInput) { in.Country = "XX" }, "profile_country", "error.country"},
		{"country a name", func(in *recruit.ProfileInput) { in.Country = "Sweden" }, "profile_country", "error.country"},
		{"title too long", func(in *recruit.ProfileInput) { in.Title = long }, "profile_title", "error.profile_text"},
		{"employer too long", func(in *recruit.ProfileInput) { in.Employer = long }, "profile_employer", "error.profile_text"},
		{"link http", func(in *recruit.ProfileInput) { in.LinkedIn = "http://www.linkedin.com/in/anna" }, "profile_linkedin", "error.profile_link"},
		{"link javascript", func(in *recruit.ProfileInput) { in.LinkedIn = "javascript:alert(1)" }, "profile_linkedin", "error.profile_link"},
		{"link relative", func(in *recruit.ProfileInput) { in.Portfolio = "/in/anna" }, "profile_portfolio", "error.profile_link"},
		{"link credentials", func(in *recruit.ProfileInput) { in.Portfolio = "https://user:pw@example.org/" }, "profile_portfolio", "error.profile_link"},
		{"link too long", func(in *recruit.ProfileInput) { in.Portfolio = "https://example.org/" + strings.Repeat("a", 281) }, "profile_portfolio", "error.profile_link"},
		{"link with a space", func(in *recruit.ProfileInput) { in.Portfolio = "https://example.org/a b" }, "profile_portfolio", "error.profile_link"},
		{"notice not a number", func(in *recruit.ProfileInput) { in.Notice = "two" }, "profile_notice", "error.notice"},
		{"notice negative", func(in *recruit.ProfileInput) { in.Notice = "-1" }, "profile_notice", "error.notice"},
		{"notice too long", func(in *recruit.ProfileInput) { in.Notice = "105" }, "profile_notice", "error.notice"},
		{"salary not a number", func(in *recruit.ProfileInput) { in.SalaryAmount = "a lot" }, "profile_salary", "error.salary"},
		{"salary negative", func(in *recruit.ProfileInput) { in.SalaryAmount = "-5" }, "profile_salary", "error.salary"},
		{"currency unknown", func(in *recruit.ProfileInput) { in.SalaryCurrency = "KRONOR" }, "profile_salary_currency", "error.currency"},
		{"currency missing", func(in *recruit.ProfileInput) { in.SalaryCurrency = "" }, "profile_salary_currency", "error.currency"},
		{"period unknown", func(in *recruit.ProfileInput) { in.SalaryPeriod = "week" }, "profile_salary_period", "error.salary_period"},
		{"skill too long", func(in *recruit.ProfileInput) { in.Skills = []string{strings.Repeat("s", 61)} }, "profile_skills", "error.skill"},
		{"language unknown", func(in *recruit.ProfileInput) { in.Languages = recruit.ParseLanguages("xx:C1") }, "profile_languages", "error.profile_language"},
		{"language without level", func(in *recruit.ProfileInput) { in.Languages = recruit.ParseLanguages("sv") }, "profile_languages", "error.profile_language"},
		{"language level unknown", func(in *recruit.ProfileInput) { in.Languages = recruit.ParseLanguages("sv:fluent") }, "profile_languages", "error.profile_language"},
		{"language twice", func(in *recruit.ProfileInput) { in.Languages = recruit.ParseLanguages("sv:C1, SV:native") }, "profile_languages", "error.profile_language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fullProfile()
			tc.edit(&in)
			err := e.svc.SaveProfile(ctx, e.users[access.HRManager], app.ID, in)
			var inv *fault.Invalid
			if !errors.As(err, &inv) || inv.Fields[tc.field] != tc.key || len(inv.Fields) != 1 {
				t.Fatalf("got %v, want %s on %s alone", err, tc.key, tc.field)
			}
		})
	}
	if v := e.card(t, app.ID); !v.Profile.Empty() || len(v.ProfileHistory) != 0 {
		t.Fatalf("refused saves stored %+v, %+v", v.Profile, v.ProfileHistory)
	}
	if got := e.vocabulary(t); len(got) != 0 {
		t.Fatalf("refused saves added skills %v", got)
	}
}

// TestSaveProfileHistory: a save stores the profile as typed and cleaned,
// one history row per changed field with its old and new value, who and
// how, and one audit record naming the fields without their values;
// saving the same again changes nothing; the right to work on the
// application is needed.
func TestSaveProfileHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.HRManager, "Developer")
	app := e.apply(t, access.HRManager, p.ID, "Anna Berg", "anna@example.org", access.StageNew)
	hr := e.users[access.HRManager]
	if err := e.svc.SaveProfile(ctx, hr, app.ID, fullProfile()); err != nil {
		t.Fatal(err)
	}
	v := e.card(t, app.ID)
	pr := v.Profile
	if pr.City != "Malmö" || pr.Country != "SE" || pr.Title != "Backend developer" || pr.Employer != "Acme AB" ||
		pr.NoticeWeeks == nil || *pr.NoticeWeeks != 4 || pr.SalaryAmount == nil || *pr.SalaryAmount != 55000 || pr.SalaryCurrency != "SEK" ||
		pr.SalaryPeriod != "month" || recruit.FormatSkills(pr.Skills) != "Go, postgreSQL" || recruit.FormatLanguages(pr.Languages) != "en:C1, sv:native" {
		t.Fatalf("stored %+v", pr)
	}
	if got := e.vocabulary(t); !slices.Equal(got, []string{"Go", "postgreSQL"}) {
		t.Fatalf("vocabulary %v, want the two new skills", got)
	}
	if len(v.ProfileHistory) != 10 {
		t.Fatalf("%d history rows, want one per field (10)", len(v.ProfileHistory))
	}
	for _, c := range v.ProfileHistory {
		if c.Old != "" || c.New == "" || c.By != hr.UserID || c.Via != "staff" {
			t.Errorf("history row %+v", c)
		}
	}
	// A second save: one field changed, one cleared, the rest as they are.
	in := fullProfile()
	in.Title, in.Portfolio = "Lead developer", ""
	in.Skills = []string{"GO", "PostgreSQL", "Kubernetes"}
	if err := e.svc.SaveProfile(ctx, hr, app.ID, in); err != nil {
		t.Fatal(err)
	}
	v = e.card(t, app.ID)
	got := map[string]recruit.ProfileChange{}
	for _, c := range v.ProfileHistory[:len(v.ProfileHistory)-10] {
		got[c.Field] = c
	}
	if len(got) != 3 || got["title"].Old != "Backend developer" || got["title"].New != "Lead developer" ||
		got["portfolio"].Old != "https://anna.example.org/work" || got["portfolio"].New != "" ||
		got["skills"].Old != "Go, postgreSQL" || got["skills"].New != "Go, Kubernetes, postgreSQL" {
		t.Fatalf("second save's history %+v", got)
	}
	// The same again: no history, no record.
	before := len(v.ProfileHistory)
	if err := e.svc.SaveProfile(ctx, hr, app.ID, in); err != nil {
		t.Fatal(err)
	}
	if v = e.card(t, app.ID); len(v.ProfileHistory) != before {
		t.Fatalf("an unchanged save wrote %d rows", len(v.ProfileHistory)-before)
	}
	recs, _, err := e.log.List(ctx, e.tenantID, audit.Filter{Track: audit.History, ObjectKind: "candidate", ObjectID: app.Candidate.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, r := range recs {
		if r.Action == audit.CandidateProfileChanged {
			changes = append(changes, r.Details["fields"])
			for _, d := range r.Details {
				if strings.Contains(d, "Malmö") || strings.Contains(d, "Acme") || strings.Contains(d, "developer") {
					t.Errorf("the trail holds a value: %v", r.Details)
				}
			}
		}
	}
	if !slices.Equal(changes, []string{"title,skills,portfolio", "title,employer,city,country,skills,languages,linkedin,portfolio,notice,salary"}) {
		t.Fatalf("trail records %q", changes)
	}
	// A line manager sees the shared card but may not change it; another
	// company's user does not find it.
	if err := e.svc.SharePosition(ctx, hr, p.ID, []string{e.users[access.LineManager].UserID}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SaveProfile(ctx, e.users[access.LineManager], app.ID, in); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("line manager: %v, want ErrForbidden", err)
	}
	if err := e.svc.SaveProfile(ctx, e.users["foreign"], app.ID, in); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company: %v, want ErrNotFound", err)
	}
	// Clearing everything leaves an empty profile.
	if err := e.svc.SaveProfile(ctx, hr, app.ID, recruit.ProfileInput{}); err != nil {
		t.Fatal(err)
	}
	if v = e.card(t, app.ID); !v.Profile.Empty() {
		t.Fatalf("cleared profile %+v", v.Profile)
	}
}

// TestSaveProfileRace: recruiters saving the same candidate's profile at
// once lose no history row, and each row's old value is the value stored
// when it was written: the rows form one chain from "" to the final value.
func TestSaveProfileRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.HRManager, "Developer")
	app := e.apply(t, access.HRManager, p.ID, "Anna Berg", "anna@example.org", access.StageNew)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.svc.SaveProfile(ctx, e.users[access.HRManager], app.ID, recruit.ProfileInput{Title: fmt.Sprintf("Title %d", i),
				Skills: []string{fmt.Sprintf("Skill %d", i), "Shared skill"}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v := e.card(t, app.ID)
	for _, field := range []string{"title", "skills"} {
		next := map[string]string{}
		for _, c := range v.ProfileHistory {
			if c.Field != field {
				continue
			}
			if _, twice := next[c.Old]; twice {
				t.Fatalf("%s: two rows start from %q", field, c.Old)
			}
			next[c.Old] = c.New
		}
		if len(next) != n {
			t.Fatalf("%s: %d history rows, want %d", field, len(next), n)
		}
		cur, steps := "", 0
		for ; steps <= n; steps++ {
			nv, ok := next[cur]
			if !ok {
				break
			}
			cur = nv
		}
		want := v.Profile.Title
		if field == "skills" {
			want = recruit.FormatSkills(v.Profile.Skills)
		}
		if steps != n || cur != want {
			t.Fatalf("%s: the chain has %d steps to %q, want %d to the stored %q", field, steps, cur, n, want)
		}
	}
	if got := e.vocabulary(t); len(got) != n+1 {
		t.Fatalf("vocabulary %v, want %d skills", got, n+1)
	}
}

// TestCareerFormProfile: the position asks for parts of the profile; a new
// candidate's answers become their profile (history via the career page);
// a known candidate's profile keeps what the staff hold and only gains
// what was empty; skills the vocabulary lacks are left out of it and of
// the profile; required parts must be given.
func TestCareerFormProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hr := e.users[access.HRManager]
	p := e.published(t, "Developer")
	if err := e.svc.EditPosition(ctx, hr, p.ID, recruit.PositionInput{Title: "Developer", Language: "en",
		ProfileFields: []recruit.ProfileAsk{{Field: "skills"}, {Field: "city", Required: true}, {Field: "title"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EditPosition(ctx, hr, p.ID, recruit.PositionInput{Title: "Developer", Language: "en",
		ProfileFields: []recruit.ProfileAsk{{Field: "hobbies"}}}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("an unknown part: %v, want a refusal", err)
	}
	pos, err := e.svc.PublishedPosition(ctx, e.tenantID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if recruit.Ask(pos.ProfileFields, "city") != "required" || recruit.Ask(pos.ProfileFields, "skills") != "optional" || recruit.Ask(pos.ProfileFields, "salary") != "" {
		t.Fatalf("the form asks %+v", pos.ProfileFields)
	}
	// Go is in the vocabulary (a colleague's candidate has it).
	staffPos := e.position(t, access.HRManager, "Other")
	other := e.apply(t, access.HRManager, staffPos.ID, "Olle Staff", "olle@example.org", access.StageNew)
	if err := e.svc.SaveProfile(ctx, hr, other.ID, recruit.ProfileInput{Skills: []string{"Go"}}); err != nil {
		t.Fatal(err)
	}
	form := func(email string, prof recruit.ProfileInput) recruit.ApplyInput {
		return recruit.ApplyInput{Name: "Nora Nilsen", Email: email, CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(careerPDF)}, Profile: prof}
	}
	// The required city missing; a bad link in a part not asked for is ignored.
	_, err = e.svc.Apply(ctx, e.tenantID, p.ID, form("nora@example.org", recruit.ProfileInput{Title: "Nurse", LinkedIn: "ftp://x"}))
	var inv *fault.Invalid
	if !errors.As(err, &inv) || inv.Fields["profile_city"] != "error.profile_required" || len(inv.Fields) != 1 {
		t.Fatalf("without the required city: %v", err)
	}
	// A new candidate.
	app := e.careerApply(t, p.ID, form("nora@example.org", recruit.ProfileInput{City: "Oslo", Country: "NO", Title: "Developer",
		Employer: "Not asked", Skills: []string{"go", "Fortran 77"}, Notice: "8"}))
	v := e.card(t, app.ID)
	if pr := v.Profile; pr.City != "Oslo" || pr.Country != "NO" || pr.Title != "Developer" || pr.Employer != "" || pr.NoticeWeeks != nil ||
		recruit.FormatSkills(pr.Skills) != "Go" {
		t.Fatalf("new candidate's profile %+v", pr)
	}
	if got := e.vocabulary(t); !slices.Equal(got, []string{"Go"}) {
		t.Fatalf("the form changed the vocabulary: %v", got)
	}
	for _, c := range v.ProfileHistory {
		if c.Via != "career_page" || c.By != "" || c.Old != "" {
			t.Errorf("history row %+v", c)
		}
	}
	if len(v.ProfileHistory) != 4 {
		t.Fatalf("%d history rows, want city, country, title and skills", len(v.ProfileHistory))
	}
	// A known candidate: the staff set a title and cleared the city; the
	// form fills the city only.
	if err := e.svc.SaveProfile(ctx, hr, app.ID, recruit.ProfileInput{Title: "Senior developer", Skills: []string{"Go"}}); err != nil {
		t.Fatal(err)
	}
	p2 := e.published(t, "Architect")
	if err := e.svc.EditPosition(ctx, hr, p2.ID, recruit.PositionInput{Title: "Architect", Language: "en",
		ProfileFields: []recruit.ProfileAsk{{Field: "skills"}, {Field: "city"}, {Field: "title"}}}); err != nil {
		t.Fatal(err)
	}
	app2 := e.careerApply(t, p2.ID, form("NORA@example.org", recruit.ProfileInput{City: "Bergen", Title: "CEO", Skills: []string{"Go", "PHP"}}))
	if app2.Candidate.ID != app.Candidate.ID {
		t.Fatal("the known address made a new candidate")
	}
	v = e.card(t, app.ID)
	if pr := v.Profile; pr.Title != "Senior developer" || pr.City != "Bergen" || pr.Country != "" || recruit.FormatSkills(pr.Skills) != "Go" {
		t.Fatalf("the form changed what the staff hold: %+v", pr)
	}
	if c := v.ProfileHistory[0]; c.Field != "city" || c.Via != "career_page" || c.New != "Bergen" {
		t.Fatalf("latest history row %+v", c)
	}
}

// TestProfileFilters: skill: and city: find candidates by their profile,
// folded (city:malmo finds Malmö) and by prefix (a trailing *); a word
// finds the profile's title and skills through the index.
func TestProfileFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hr := e.users[access.HRManager]
	p := e.position(t, access.HRManager, "Developer")
	for i, c := range []struct {
		name string
		in   recruit.ProfileInput
	}{
		{"Anna Malm", recruit.ProfileInput{City: "Malmö", Country: "SE", Skills: []string{"Go", "PostgreSQL"}}},
		{"Olav Oslo", recruit.ProfileInput{City: "Oslo", Country: "NO", Skills: []string{"Java"}, Title: "Platform engineer"}},
		{"Jiří Brno", recruit.ProfileInput{City: "České Budějovice", Skills: []string{"Golang", "JavaScript"}}},
		{"Nobody", recruit.ProfileInput{}},
	} {
		app := e.apply(t, access.HRManager, p.ID, c.name, fmt.Sprintf("c%d@example.org", i), access.StageNew)
		if err := e.svc.SaveProfile(ctx, hr, app.ID, c.in); err != nil {
			t.Fatal(err)
		}
	}
	e.indexed(t)
	e.listFinds(t, hr, []listCase{
		{"city:malmo", "Anna Malm"}, {"city:MALMÖ", "Anna Malm"}, {"city:oslo", "Olav Oslo"}, {"city:mal*", "Anna Malm"},
		{`city:"ceske budejovice"`, "Jiří Brno"}, {"city:ceske*", "Jiří Brno"}, {"city:malm", ""},
		{"skill:go", "Anna Malm"}, {"skill:GO", "Anna Malm"}, {"skill:go*", "Anna Malm,Jiří Brno"}, {"skill:java", "Olav Oslo"},
		{"skill:java*", "Jiří Brno,Olav Oslo"}, {"skill:go OR skill:java", "Anna Malm,Olav Oslo"}, {"skill:java* -skill:javascript", "Olav Oslo"},
		{"skill:go city:oslo", ""}, {"skill:rust", ""},
		{"postgresql", "Anna Malm"}, {"platform", "Olav Oslo"},
	})
}

// TestImportProfile: an imported candidate's profile is written with its
// history via "import" at the candidate's time; the vocabulary gains the
// skills it lacked, once.
func TestImportProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.position(t, access.HRManager, "Developer")
	hr := e.users[access.HRManager]
	imported := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	var apps []recruit.ImportApplication
	for i, skills := range [][]string{{"Go", "SQL"}, {"go", "Rust"}} {
		apps = append(apps, recruit.ImportApplication{PositionID: p.ID, CreatedAt: imported, AddedBy: hr.UserID,
			Candidate: recruit.CandidateInput{Name: fmt.Sprintf("Imported %d", i), Email: fmt.Sprintf("imp%d@example.org", i)},
			Profile:   &recruit.ProfileInput{City: "Göteborg", Country: "SE", Title: "Developer", Skills: skills, Languages: recruit.ParseLanguages("sv:native")}})
	}
	if err := e.svc.ImportApplications(ctx, e.tenantID, apps); err != nil {
		t.Fatal(err)
	}
	if got := e.vocabulary(t); !slices.Equal(got, []string{"Go", "Rust", "SQL"}) {
		t.Fatalf("vocabulary %v", got)
	}
	v := e.card(t, apps[1].ID)
	if pr := v.Profile; pr.City != "Göteborg" || recruit.FormatSkills(pr.Skills) != "Go, Rust" || recruit.FormatLanguages(pr.Languages) != "sv:native" {
		t.Fatalf("imported profile %+v", pr)
	}
	if len(v.ProfileHistory) != 5 || v.ProfileHistory[0].Via != "import" || !v.ProfileHistory[0].At.Equal(imported) {
		t.Fatalf("imported history %+v", v.ProfileHistory)
	}
	var folded string
	if err := e.db.ReadTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT city_folded FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, v.Application.Candidate.ID).Scan(&folded)
	}); err != nil || folded != "goteborg" {
		t.Fatalf("city_folded %q, %v", folded, err)
	}
	bad := apps[0]
	bad.ID, bad.CandidateID, bad.Candidate.Email = "", "", "bad@example.org"
	bad.Profile = &recruit.ProfileInput{Country: "XX"}
	if err := e.svc.ImportApplications(ctx, e.tenantID, []recruit.ImportApplication{bad}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("a bad imported profile: %v", err)
	}
}
