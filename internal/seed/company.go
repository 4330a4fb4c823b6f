package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/synth"
	"github.com/kandidat/kandidat/internal/tenant"
)

// companyWords are the parts of invented company names per country: a
// place-like word, a trade, and the legal form.
var companyWords = map[string]struct {
	first, trade []string
	form         string
}{
	"SE": {[]string{"Norrsken", "Vattern", "Granskog", "Ljusdal", "Bjorkvik", "Solberga", "Kustlinje", "Fjallbacka"},
		[]string{"Logistik", "Bygg", "Teknik", "Vard", "Data", "Energi", "Handel", "Konsult"}, "AB"},
	"NO": {[]string{"Nordfjord", "Fjellheim", "Havbris", "Vestland", "Solvik", "Tindholm", "Bjerke", "Lysaker"},
		[]string{"Logistikk", "Bygg", "Teknologi", "Helse", "Data", "Energi", "Handel", "Radgivning"}, "AS"},
	"SK": {[]string{"Tatra", "Dunaj", "Hron", "Javor", "Karpaty", "Morava", "Poprad", "Vah"},
		[]string{"Logistika", "Stavby", "Technologie", "Zdravie", "Data", "Energia", "Obchod", "Poradenstvo"}, "s.r.o."},
	"CZ": {[]string{"Vltava", "Labe", "Sumava", "Brdy", "Jizera", "Orlice", "Beskydy", "Podoli"},
		[]string{"Logistika", "Stavby", "Technologie", "Zdravi", "Data", "Energie", "Obchod", "Poradenstvi"}, "s.r.o."},
	"GB": {[]string{"Pennine", "Thames", "Severn", "Highland", "Kestrel", "Harbour", "Oakridge", "Northgate"},
		[]string{"Logistics", "Construction", "Technology", "Care", "Data", "Energy", "Retail", "Consulting"}, "Ltd"},
}

// Labels colleagues put on applications.
var labels = []string{"shortlist", "senior", "remote", "relocation", "referral", "junior", "follow-up", "talent-pool"}

// newCompany creates company number i (0 is the largest) with its users,
// credits and a trail retention that keeps the generated history.
func newCompany(ctx context.Context, d Deps, g *gen, i, size int, password, unusable string) (*company, error) {
	country := synth.Countries[i%len(synth.Countries)]
	w := companyWords[country]
	first, trade := w.first[g.pick(len(w.first))], w.trade[g.pick(len(w.trade))]
	name := first + " " + trade + " " + w.form
	lang := synth.LanguageOf(country)
	created := g.historyStart().AddDate(0, -1, 0)
	var t *tenant.Tenant
	for attempt := 0; ; attempt++ {
		slug := fmt.Sprintf("%s-%s-%d", strings.ToLower(first), strings.ToLower(trade), i+1)
		if attempt > 0 {
			slug = fmt.Sprintf("%s-%d", slug, attempt)
		}
		var err error
		t, err = d.Tenants.Create(ctx, audit.Operator, tenant.CreateInput{ID: g.id(created), Slug: slug, Name: name,
			RegistrationNumber: fmt.Sprintf("%s%08d", country, 10_000_000+g.pick(89_999_999)), DefaultLanguage: lang, Via: "seed"})
		if errors.Is(err, tenant.ErrConflict) && attempt < 20 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create company: %w", err)
		}
		break
	}
	c := &company{t: t, language: lang, logins: map[string]string{}}
	nPos := max(3, size/g.o.Scale.CandidatesPerPosition)
	type role struct {
		login, role string
		n           int
	}
	roles := []role{
		{"admin", access.Administrator, 1},
		{"hr", access.HRManager, 1},
		{"recruiter", access.Recruiter, min(20, max(2, nPos/100))},
		{"recruiter-nc", access.RecruiterWithoutCredits, 1},
		{"linemanager", access.LineManager, min(10, max(1, nPos/200))},
		{"casehandler", access.CaseHandler, 1},
	}
	var adminPrincipal *account.Principal
	for _, r := range roles {
		for k := 1; k <= r.n; k++ {
			login := r.login
			if r.n > 1 {
				login = fmt.Sprintf("%s%d", r.login, k)
			}
			login += "." + t.Slug
			p := synth.NewPerson(g.r, country)
			in := account.CreateUserInput{ID: g.id(created), Login: login, Email: login + "@example.com", DisplayName: p.Name,
				Language: lang, Role: r.role, Password: password, MustChangePassword: true, Via: "seed"}
			var u *account.User
			var err error
			if password != "" {
				u, err = d.Accounts.CreateUser(ctx, access.Operator(t.ID), in)
			} else {
				u, err = d.Accounts.ImportUser(ctx, access.Operator(t.ID), in, unusable)
			}
			if err != nil {
				return nil, fmt.Errorf("create user %s: %w", r.role, err)
			}
			if _, ok := c.logins[r.role]; !ok {
				c.logins[r.role] = u.Login
			}
			switch r.role {
			case access.Administrator:
				if adminPrincipal, err = d.Accounts.Principal(ctx, t.ID, u.ID); err != nil {
					return nil, err
				}
				c.admin = u.ID
			case access.HRManager:
				if err := d.Accounts.SetOptionalRights(ctx, adminPrincipal.Actor(), u.ID, optionalRights()); err != nil {
					return nil, fmt.Errorf("HR manager's rights: %w", err)
				}
				c.hr = u.ID
				c.recruiters = append(c.recruiters, u.ID)
			case access.Recruiter:
				c.recruiters = append(c.recruiters, u.ID)
			case access.LineManager:
				c.lineMgrs = append(c.lineMgrs, u.ID)
			}
		}
	}
	if _, err := d.Credits.GrantAsOperator(ctx, t.ID, credit.GrantInput{Amount: 100, Reason: "purchase", Note: "seed"}); err != nil {
		return nil, err
	}
	// A company that keeps its history three years: the generated two
	// years stay whole (the minimum, 180 days, would prune most of them).
	for _, track := range []audit.Track{audit.History, audit.Business, audit.Security, audit.GDPR} {
		if err := d.Audit.SetRetention(ctx, t.ID, track, 3*366); err != nil {
			return nil, fmt.Errorf("retention: %w", err)
		}
	}
	return c, nil
}

// existingCompany seeds a company that exists (the demo): its own users
// own the positions and act on the applications.
func existingCompany(ctx context.Context, d Deps, g *gen, t *tenant.Tenant) (*company, error) {
	users, err := d.Accounts.ListUsers(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	c := &company{t: t, language: t.DefaultLanguage, logins: map[string]string{}}
	for _, u := range users {
		if _, ok := c.logins[u.Role]; !ok {
			c.logins[u.Role] = u.Login
		}
		switch u.Role {
		case access.Administrator:
			c.admin = u.ID
		case access.HRManager:
			c.hr = u.ID
			c.recruiters = append(c.recruiters, u.ID)
		case access.Recruiter:
			c.recruiters = append(c.recruiters, u.ID)
		case access.LineManager:
			c.lineMgrs = append(c.lineMgrs, u.ID)
		}
	}
	if len(c.recruiters) == 0 {
		return nil, fmt.Errorf("the company has no recruiter or HR manager to own positions")
	}
	return c, nil
}

func optionalRights() []string {
	var out []string
	for _, p := range access.OptionalRights {
		out = append(out, p.Name())
	}
	return out
}
