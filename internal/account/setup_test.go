package account_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestSetupToken(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	valid := func(token string) bool {
		t.Helper()
		ok, err := e.svc.SetupTokenValid(ctx, token)
		if err != nil {
			t.Fatalf("SetupTokenValid: %v", err)
		}
		return ok
	}
	if valid("") || valid("anything") {
		t.Errorf("SetupTokenValid on an empty installation = true, want false")
	}
	first, err := e.svc.NewSetupToken(ctx)
	if err != nil {
		t.Fatalf("NewSetupToken: %v", err)
	}
	if len(first) != 43 {
		t.Errorf("setup token length = %d, want 43", len(first))
	}
	if !valid(first) {
		t.Errorf("SetupTokenValid(new token) = false, want true")
	}
	if n := e.count(t, `SELECT count(*) FROM setup_tokens WHERE token_hash = $1`, id.HashToken(first)); n != 1 {
		t.Errorf("rows with the token's hash = %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM setup_tokens WHERE token_hash = $1`, first); n != 0 {
		t.Errorf("setup token stored in clear")
	}

	second, err := e.svc.NewSetupToken(ctx)
	if err != nil {
		t.Fatalf("second NewSetupToken: %v", err)
	}
	if second == first {
		t.Fatalf("NewSetupToken returned the same token twice")
	}
	if valid(first) {
		t.Errorf("first token still valid after a second was made, want invalid")
	}
	if !valid(second) {
		t.Errorf("second token invalid, want valid")
	}
	if n := e.count(t, `SELECT count(*) FROM setup_tokens`); n != 1 {
		t.Errorf("setup tokens stored = %d, want 1", n)
	}
}

func setupInputs() (tenant.CreateInput, account.CreateUserInput) {
	return tenant.CreateInput{Slug: "Acme", Name: "Acme AB", DefaultLanguage: "sv"},
		account.CreateUserInput{Login: " Admin@Acme.example ", Email: "admin@acme.example", DisplayName: "Admin", Password: goodPassword}
}

func TestSetup(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	token, err := e.svc.NewSetupToken(ctx)
	if err != nil {
		t.Fatalf("NewSetupToken: %v", err)
	}
	company, admin := setupInputs()
	c, u, err := e.svc.Setup(ctx, e.tenants, token, company, admin)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if c.Slug != "acme" || c.Name != "Acme AB" || c.DefaultLanguage != "sv" {
		t.Errorf("company = %+v, want slug acme, name Acme AB, language sv", c)
	}
	if u.TenantID != c.ID || u.Login != "admin@acme.example" || u.Role != account.RoleAdministrator || u.Status != account.Active {
		t.Errorf("admin = %+v, want an active administrator admin@acme.example of %s", u, c.ID)
	}
	if got, err := e.tenants.BySlug(ctx, "acme"); err != nil || got.ID != c.ID {
		t.Errorf("BySlug(acme) = %+v, %v; want the new company", got, err)
	}
	if got, err := e.svc.UserByID(ctx, c.ID, u.ID); err != nil || got.Login != u.Login {
		t.Errorf("UserByID(admin) = %+v, %v; want the admin", got, err)
	}
	if n := e.count(t, `SELECT count(*) FROM tenant_keys WHERE tenant_id = $1`, c.ID); n != 1 {
		t.Errorf("data keys of the company = %d, want 1", n)
	}
	if ok, err := e.svc.SetupTokenValid(ctx, token); err != nil || ok {
		t.Errorf("SetupTokenValid after Setup = %v, %v; want false, nil", ok, err)
	}
	_, p, err := e.svc.SignIn(ctx, "admin@acme.example", goodPassword, account.Client{})
	if err != nil {
		t.Fatalf("admin SignIn: %v", err)
	}
	if p.TenantID != c.ID || p.Role != account.RoleAdministrator {
		t.Errorf("principal = %+v, want administrator of %s", p, c.ID)
	}

	// The spent token creates nothing more.
	c2, u2, err := e.svc.Setup(ctx, e.tenants, token,
		tenant.CreateInput{Slug: "other", Name: "Other"},
		account.CreateUserInput{Login: "other-admin", DisplayName: "Other", Password: goodPassword})
	if !errors.Is(err, account.ErrSetupDone) {
		t.Errorf("second Setup with the token = %v, want ErrSetupDone", err)
	}
	if c2 != nil || u2 != nil {
		t.Errorf("second Setup returned %+v, %+v; want nil, nil", c2, u2)
	}
	if n := e.count(t, `SELECT count(*) FROM tenants`); n != 1 {
		t.Errorf("companies = %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Errorf("users = %d, want 1", n)
	}
}

// TestSetupCreatesNothingOnFailure runs Setup on an installation that already
// has company "taken" with user "root": a failed Setup leaves every table as
// it was and the token usable.
func TestSetupCreatesNothingOnFailure(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		mutate  func(c *tenant.CreateInput, u *account.CreateUserInput, token *string)
		wantErr error
		wantVE  map[string]string
	}{
		{"invalid admin password", func(c *tenant.CreateInput, u *account.CreateUserInput, _ *string) { u.Password = "short1" },
			nil, map[string]string{"password": "error.password_short"}},
		{"invalid company and admin", func(c *tenant.CreateInput, u *account.CreateUserInput, _ *string) {
			c.Slug = "admin"
			c.Name = ""
			u.Email = "nope"
		}, nil, map[string]string{"slug": "error.slug_reserved", "name": "error.company_name", "email": "error.email_format"}},
		{"slug taken", func(c *tenant.CreateInput, _ *account.CreateUserInput, _ *string) { c.Slug = "TAKEN" },
			tenant.ErrConflict, nil},
		{"login taken in another company", func(_ *tenant.CreateInput, u *account.CreateUserInput, _ *string) { u.Login = "Root" },
			account.ErrLoginTaken, nil},
		{"unknown token", func(_ *tenant.CreateInput, _ *account.CreateUserInput, token *string) { *token = "not-the-token" },
			account.ErrSetupDone, nil},
		{"empty token", func(_ *tenant.CreateInput, _ *account.CreateUserInput, token *string) { *token = "" },
			account.ErrSetupDone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFastEnv(t)
			taken := e.company(t, "taken")
			e.user(t, taken.ID, "root", goodPassword)
			token, err := e.svc.NewSetupToken(ctx)
			if err != nil {
				t.Fatalf("NewSetupToken: %v", err)
			}
			tables := []string{"tenants", "tenant_modules", "tenant_keys", "users", "sessions"}
			before := map[string]int{}
			for _, tb := range tables {
				before[tb] = e.count(t, `SELECT count(*) FROM `+tb)
			}

			company, admin := setupInputs()
			use := token
			tt.mutate(&company, &admin, &use)
			c, u, err := e.svc.Setup(ctx, e.tenants, use, company, admin)
			if tt.wantVE != nil {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.wantVE) {
					t.Errorf("err = %v, want ValidationError %v", err, tt.wantVE)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if c != nil || u != nil {
				t.Errorf("Setup returned %+v, %+v; want nil, nil", c, u)
			}
			for _, tb := range tables {
				if got := e.count(t, `SELECT count(*) FROM `+tb); got != before[tb] {
					t.Errorf("%s rows = %d after a failed Setup, want %d", tb, got, before[tb])
				}
			}
			if _, err := e.tenants.BySlug(ctx, "acme"); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("BySlug(acme) = %v, want ErrNotFound", err)
			}
			if ok, err := e.svc.SetupTokenValid(ctx, token); err != nil || !ok {
				t.Errorf("SetupTokenValid after a failed Setup = %v, %v; want true, nil", ok, err)
			}
		})
	}
}
