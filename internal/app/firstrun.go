package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/seed"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Demo identifiers printed for the newcomer.
const (
	DemoSlug  = "demo"
	DemoLogin = "admin"
)

// FirstRun prepares an installation for its first visitor: with demo, a
// demo company and administrator with a one-time password; without, a
// one-time setup link. It does nothing once a company exists, except say
// how to sign in.
func (a *App) FirstRun(ctx context.Context, demo bool, baseURL string, out io.Writer) error {
	n, err := a.Tenants.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if demo {
			fmt.Fprintf(out, "The demo company exists already. Sign in at %s/signin as %q with the password you chose.\n", baseURL, DemoLogin)
		}
		return nil
	}
	if !demo {
		token, err := a.Accounts.NewSetupToken(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "This installation has no company yet. Open this one-time link to create the first company and its administrator:\n  %s/setup/%s\n", baseURL, token)
		return nil
	}
	password, err := InitialPassword()
	if err != nil {
		return err
	}
	actor := audit.System("first-run")
	t, err := a.Tenants.Create(ctx, actor, tenant.CreateInput{
		Slug: DemoSlug, Name: "Demo Company", RegistrationNumber: "DEMO-0001", DefaultLanguage: "en",
		Modules: tenant.Modules, Via: "demo",
	})
	if err != nil {
		return fmt.Errorf("create demo company: %w", err)
	}
	u, err := a.Accounts.CreateUser(ctx, access.System("first-run", t.ID), account.CreateUserInput{
		Login: DemoLogin, Email: "admin@demo.example", DisplayName: "Demo Administrator",
		Role: account.RoleAdministrator, Password: password, MustChangePassword: true, Via: "demo",
	})
	if err != nil {
		return fmt.Errorf("create demo administrator: %w", err)
	}
	if err := a.seedDemo(ctx, t, password); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	karin, err := a.Accounts.UserByLogin(ctx, t.ID, "casehandler")
	if err != nil {
		return err
	}
	kp, err := a.Accounts.Principal(ctx, t.ID, karin.ID)
	if err != nil {
		return err
	}
	receipt, err := a.seedDemoWhistle(ctx, t, kp.Actor(), password)
	if err != nil {
		return fmt.Errorf("demo reporting channel: %w", err)
	}
	// Then two years of synthetic history: a company with a real pool.
	small, _ := seed.ScaleByName("small")
	if _, err := seed.Run(ctx, seed.Deps{DB: a.DB, Tenants: a.Tenants, Accounts: a.Accounts, Recruit: a.Recruit, Credits: a.Credits, Audit: a.Audit},
		seed.Options{Scale: small, Seed: 1, Into: t}); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	if err := a.acknowledgeSetupAlerts(ctx, actor, t.ID); err != nil {
		return fmt.Errorf("demo alerts: %w", err)
	}
	if err := a.DB.Analyze(ctx); err != nil {
		return err
	}
	a.Logger.Info("demo company created", "tenant_id", t.ID, "user_id", u.ID)
	fmt.Fprintf(out, "Demo company created. Sign in at %s/signin\n  username: %s\n  password: %s\n  (one-time: you will choose your own password at the first sign-in)\n",
		baseURL, DemoLogin, password)
	fmt.Fprintf(out, "  One user per role, with the same one-time password:")
	for _, d := range demoUsers {
		fmt.Fprintf(out, " %s (%s)", d.login, d.role)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  Whistleblowing channel: %s/report/%s/ethics (a demo report's receipt: %s)\n", baseURL, DemoSlug, receipt)
	return nil
}

// demoUsers are the demo company's users besides the administrator: one
// per predefined role.
var demoUsers = []struct {
	login, name, role string
	rights            []string
}{
	{"hrmanager", "Hana Horváthová", access.HRManager, []string{"statistics.service", "statistics.recruitment", "credits.manage", "users.manage"}},
	{"recruiter", "Rasmus Lindqvist", access.Recruiter, nil},
	{"recruiter-nc", "Nora Berg", access.RecruiterWithoutCredits, nil},
	{"linemanager", "Lukas Novák", access.LineManager, nil},
	{"casehandler", "Karin Dahl", access.CaseHandler, nil},
}

// demoCandidates are invented people; the stage is where each stands.
var demoCandidates = []struct {
	name, email string
	stage       access.StageKind
}{
	{"Alma Svensson", "alma.svensson@example.org", access.StageNew},
	{"Bjørn Hansen", "bjorn.hansen@example.org", access.StagePreselected},
	{"Cecília Kováčová", "cecilia.kovacova@example.org", access.StageInterview},
	{"David Dvořák", "david.dvorak@example.org", access.StageOffer},
	{"Eva Johansson", "eva.johansson@example.org", access.StageHired},
	{"Filip Marek", "filip.marek@example.org", access.StageRejected},
	{"Greta Nilsson", "greta.nilsson@example.org", access.StageNew},
	{"Henrik Olsen", "henrik.olsen@example.org", access.StagePreselected},
	{"Ivana Horváth", "ivana.horvath@example.org", access.StageInterview},
	{"Jakub Procházka", "jakub.prochazka@example.org", access.StageOffer},
	{"Klara Berg", "klara.berg@example.org", access.StageHired},
	{"Leo Strand", "leo.strand@example.org", access.StageRejected},
}

// demoProfiles are the demo candidates' profiles, by email.
var demoProfiles = map[string]recruit.ProfileInput{
	"alma.svensson@example.org":    {City: "Malmö", Country: "SE", Title: "Backend developer", Employer: "Öresund Data AB", Skills: []string{"Go", "PostgreSQL", "Docker"}, Languages: recruit.ParseLanguages("sv:native, en:C1"), Notice: "12", SalaryAmount: "52000", SalaryCurrency: "SEK", SalaryPeriod: "month"},
	"bjorn.hansen@example.org":     {City: "Tromsø", Country: "NO", Title: "Software engineer", Employer: "Nordlys Tech AS", Skills: []string{"Java", "Kotlin", "Kubernetes"}, Languages: recruit.ParseLanguages("nb:native, en:C1, sv:B2"), Notice: "12", LinkedIn: "https://www.linkedin.com/in/bjorn-hansen-demo"},
	"cecilia.kovacova@example.org": {City: "Bratislava", Country: "SK", Title: "Senior Go developer", Employer: "Dunaj Software s.r.o.", Skills: []string{"Go", "PostgreSQL", "Kubernetes", "AWS"}, Languages: recruit.ParseLanguages("sk:native, en:C1, de:B1"), Notice: "8", SalaryAmount: "4200", SalaryCurrency: "EUR", SalaryPeriod: "month"},
	"david.dvorak@example.org":     {City: "Brno", Country: "CZ", Title: "Platform engineer", Employer: "Morava Cloud a.s.", Skills: []string{"Go", "Terraform", "Linux"}, Languages: recruit.ParseLanguages("cs:native, en:B2"), Notice: "8"},
	"eva.johansson@example.org":    {City: "Göteborg", Country: "SE", Title: "Developer", Employer: "Västkust IT AB", Skills: []string{"Python", "SQL"}, Languages: recruit.ParseLanguages("sv:native, en:C2")},
	"filip.marek@example.org":      {City: "Praha", Country: "CZ", Title: "Junior developer", Skills: []string{"JavaScript", "React"}, Languages: recruit.ParseLanguages("cs:native, en:B1"), Notice: "4"},
	"greta.nilsson@example.org":    {City: "Stockholm", Country: "SE", Title: "UX designer", Employer: "Norrsken Design AB", Skills: []string{"Figma", "User research"}, Languages: recruit.ParseLanguages("sv:native, en:C1"), Portfolio: "https://greta-nilsson.example.org/"},
	"henrik.olsen@example.org":     {City: "Oslo", Country: "NO", Title: "Product designer", Skills: []string{"Figma", "Prototyping"}, Languages: recruit.ParseLanguages("nb:native, en:C1")},
	"ivana.horvath@example.org":    {City: "Košice", Country: "SK", Title: "UI designer", Employer: "Východ Studio", Skills: []string{"Figma", "Illustrator"}, Languages: recruit.ParseLanguages("sk:native, hu:C1, en:B2"), Notice: "8"},
	"jakub.prochazka@example.org":  {City: "Plzeň", Country: "CZ", Title: "Service designer", Skills: []string{"User research", "Workshops"}, Languages: recruit.ParseLanguages("cs:native, en:C1")},
	"klara.berg@example.org":       {City: "Uppsala", Country: "SE", Title: "Interaction designer", Skills: []string{"Figma", "Accessibility"}, Languages: recruit.ParseLanguages("sv:native, en:C1, de:A2")},
	"leo.strand@example.org":       {City: "Bergen", Country: "NO", Title: "Graphic designer", Skills: []string{"Photoshop"}, Languages: recruit.ParseLanguages("nb:native")},
}

// seedDemo gives the demo company one user per role, credits, positions
// (one shared with the line manager, one of the HR manager's whose
// advanced candidates reach the recruiter through the shared pool) and
// applications in every stage.
func (a *App) seedDemo(ctx context.Context, t *tenant.Tenant, password string) error {
	actor := access.System("first-run", t.ID)
	users := map[string]access.Actor{}
	for _, d := range demoUsers {
		u, err := a.Accounts.CreateUser(ctx, actor, account.CreateUserInput{Login: d.login, Email: d.login + "@demo.example",
			DisplayName: d.name, Role: d.role, Password: password, MustChangePassword: true, Via: "demo"})
		if err != nil {
			return err
		}
		p, err := a.Accounts.Principal(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		if d.rights != nil {
			admin, err := a.Accounts.UserByLogin(ctx, t.ID, DemoLogin)
			if err != nil {
				return err
			}
			ap, err := a.Accounts.Principal(ctx, t.ID, admin.ID)
			if err != nil {
				return err
			}
			if err := a.Accounts.SetOptionalRights(ctx, ap.Actor(), u.ID, d.rights); err != nil {
				return err
			}
		}
		users[d.login] = p.Actor()
	}
	if _, err := a.Credits.GrantAsOperator(ctx, t.ID, credit.GrantInput{Amount: 20, Reason: "purchase", Note: "Demo credits"}); err != nil {
		return err
	}
	// The privacy policy the records of processing and the privacy notice
	// are written from: the legal periods, a business id, two processors.
	if err := a.Tenants.SavePrivacy(ctx, access.System("first-run", t.ID, access.PrivacySettings), tenant.Privacy{
		PurposeMonths: 6, ConsentMonths: 24, RegistrationNumber: "SK 52 817 301",
		Processors: "Demo Hosting s.r.o., servers and backups, Bratislava (EU)\nDemo Mail AB, email delivery, Stockholm (EU)",
	}); err != nil {
		return err
	}
	// The candidates each position takes from demoCandidates; the sales
	// position's two applicants also applied to the backend position.
	positions := []struct {
		owner, title, department, location, description string
		shared, publish                                 bool
		from, to                                        int
	}{
		{"recruiter", "Backend Engineer", "Engineering", "Bratislava",
			"We build the services behind our products in Go and PostgreSQL.\n\nYou design APIs, review code and care about the people whose data we hold.",
			true, true, 0, 6},
		{"hrmanager", "Product Designer", "Design", "Stockholm",
			"You shape how our customers work, from research to the last pixel.\n\nYou work with engineers every day.",
			false, true, 6, 12},
		{"recruiter", "Sales Representative", "Sales", "Oslo", "You help companies in Norway find what they need.", false, false, 0, 2},
	}
	for _, pd := range positions {
		by := users[pd.owner]
		in := recruit.PositionInput{Title: pd.title, Department: pd.department, Location: pd.location, Language: "en", Description: pd.description}
		if pd.publish {
			// The career form asks for a part of the profile.
			in.ProfileFields = []recruit.ProfileAsk{{Field: "city", Required: true}, {Field: "title"}, {Field: "languages"}, {Field: "skills"}}
		}
		pos, err := a.Recruit.CreatePosition(ctx, by, in)
		if err != nil {
			return err
		}
		if pd.shared {
			if err := a.Recruit.SharePosition(ctx, by, pos.ID, []string{users["linemanager"].UserID}); err != nil {
				return err
			}
		}
		if pd.publish {
			if _, err := a.Recruit.Publish(ctx, by, pos.ID); err != nil {
				return err
			}
		}
		for _, c := range demoCandidates[pd.from:pd.to] {
			if !pd.publish {
				app, err := a.Recruit.AddCandidate(ctx, by, pos.ID, recruit.CandidateInput{Name: c.name, Email: c.email}, c.stage, recruit.ViaDemo)
				if err != nil {
					return err
				}
				if err := a.Recruit.SaveProfile(ctx, by, app.ID, demoProfiles[c.email]); err != nil {
					return err
				}
				continue
			}
			// Through the career page, with a generated CV, then on to their stage.
			app, err := a.Recruit.Apply(ctx, t.ID, pos.ID, recruit.ApplyInput{Name: c.name, Email: c.email, Source: "demo",
				CV: &recruit.Upload{Name: strings.ReplaceAll(c.name, " ", "-") + "-CV.pdf", Data: DemoCV(c.name, pd.title)}, Profile: demoProfiles[c.email]})
			if err != nil {
				return err
			}
			// The recruiter completes the profile (skills the company did
			// not know yet join its vocabulary; the form could not add them).
			if err := a.Recruit.SaveProfile(ctx, by, app.ID, demoProfiles[c.email]); err != nil {
				return err
			}
			if err := a.Recruit.Move(ctx, by, app.ID, recruit.MoveInput{Kind: c.stage, Reason: "qualifications"}); err != nil {
				return err
			}
			if c.stage == access.StageInterview && pd.shared {
				// An interview next week with the line manager, their rating and a label.
				if _, err := a.Recruit.InviteInterview(ctx, by, app.ID, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 7).Format("2006-01-02"),
					Time: "10:00", TimeZone: "Europe/Bratislava", Minutes: 60, Location: "Demo Company, Bratislava office",
					Participants: []string{users["linemanager"].UserID}}); err != nil {
					return err
				}
				if err := a.Recruit.Rate(ctx, users["linemanager"], app.ID, recruit.RateInvite); err != nil {
					return err
				}
				if err := a.Recruit.AddLabel(ctx, by, app.ID, "shortlist"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// acknowledgeSetupAlerts closes the alerts the demo's own set-up raised
// (its administrator is a "new administrator"): the company was created a
// moment ago by this run and no one could sign in to it yet, so every
// alert it has is about the set-up, and a newcomer's first dashboard
// should not warn them about the installation itself. The rules still
// fire and the trail keeps each alert and its acknowledgement by the
// set-up, so an auditor sees what was done and by whom.
func (a *App) acknowledgeSetupAlerts(ctx context.Context, by audit.Actor, tenantID string) error {
	for {
		open, err := a.Audit.OpenAlerts(ctx, tenantID) // a page at a time
		if err != nil || len(open) == 0 {
			return err
		}
		for _, al := range open {
			if err := a.Audit.Acknowledge(ctx, by, tenantID, al.ID); err != nil {
				return err
			}
		}
	}
}

// InitialPassword returns a random one-time password of four groups of
// five letters and digits, easy to type and far beyond guessing (~100 bits).
func InitialPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	var out []byte
	for group := 0; group < 4; group++ {
		if group > 0 {
			out = append(out, '-')
		}
		for i := 0; i < 5; i++ {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if err != nil {
				return "", err
			}
			out = append(out, alphabet[n.Int64()])
		}
	}
	if account.CheckPassword(string(out), DemoLogin) != "" {
		return InitialPassword() // no digit drawn: rare, draw again
	}
	return string(out), nil
}

// DemoCV returns a small valid PDF: a one-page CV for an invented person.
func DemoCV(name, position string) []byte {
	text := func(s string) string { // PDF string literal
		return strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s)
	}
	ascii := func(s string) string { // the standard font has no accents
		return strings.Map(func(r rune) rune {
			if r < 128 {
				return r
			}
			return '?'
		}, norm.NFD.String(s))
	}
	content := fmt.Sprintf("BT /F1 20 Tf 72 760 Td (%s) Tj /F1 12 Tf 0 -28 Td (Curriculum vitae - application for %s) Tj "+
		"0 -20 Td (Experience: eight years in the field; references on request.) Tj ET", text(ascii(name)), text(ascii(position)))
	content = strings.ReplaceAll(content, "?", "")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return []byte(b.String())
}
