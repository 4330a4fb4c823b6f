package tenant_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/tenant"
)

// TestUpdateCompany: the name, language and settings change together; a
// bad input is refused with every field named and nothing changed; the
// trail records each save with what changed, never the name itself.
func TestUpdateCompany(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	co := e.create(t, tenant.CreateInput{Slug: "acme", Name: "ACME Ltd"})

	ten, bad := 10, -1
	err := e.svc.UpdateCompany(ctx, audit.Operator, co.ID, tenant.CompanyUpdate{Name: "\x07", DefaultLanguage: "de",
		Settings: tenant.Settings{PasswordProfile: "lax", RequireMFARoles: []string{"NOT A ROLE"}, FreePublications: &bad, PublicationCost: &bad}})
	var ve *fault.Invalid
	want := map[string]string{"name": "error.company_name", "default_language": "error.language", "password_profile": "error.password_profile",
		"require_mfa_roles": "error.role", "free_publications": "error.allowance", "publication_cost": "error.allowance"}
	if !errors.As(err, &ve) || !maps.Equal(ve.Fields, want) {
		t.Fatalf("bad update: %v", err)
	}

	in := tenant.CompanyUpdate{Name: " ACME Group ", DefaultLanguage: "sk",
		Settings: tenant.Settings{PasswordProfile: "strict", RequireMFA: true, FreePublications: &ten}}
	if err := e.svc.UpdateCompany(ctx, audit.User("u1"), co.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.ByID(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "ACME Group" || got.DefaultLanguage != "sk" || got.Settings.PasswordProfile != "strict" || !got.Settings.RequireMFA ||
		got.Settings.FreePublicationsPerMonth() != 10 || got.Settings.PublicationCredits() != tenant.DefaultPublicationCost {
		t.Fatalf("after the update: %+v", got)
	}
	// The same again changes nothing, and is recorded all the same.
	if err := e.svc.UpdateCompany(ctx, audit.User("u1"), co.ID, in); err != nil {
		t.Fatal(err)
	}
	recs, _, err := e.log.List(ctx, co.ID, audit.Filter{Action: audit.TenantSettingsChanged})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %+v %v", recs, err)
	}
	// Newest first.
	if recs[1].Details["fields"] != "name,default_language,password_profile,require_mfa,free_publications" || recs[0].Details["fields"] != "" {
		t.Fatalf("fields recorded: %q then %q", recs[1].Details["fields"], recs[0].Details["fields"])
	}
	if err := e.svc.UpdateCompany(ctx, audit.Operator, "00000000-0000-7000-8000-000000000000", in); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("unknown company: %v", err)
	}
}
