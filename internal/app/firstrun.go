package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
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
	u, err := a.Accounts.CreateUser(ctx, actor, t.ID, account.CreateUserInput{
		Login: DemoLogin, Email: "admin@demo.example", DisplayName: "Demo Administrator",
		Role: account.RoleAdministrator, Password: password, MustChangePassword: true, Via: "demo",
	})
	if err != nil {
		return fmt.Errorf("create demo administrator: %w", err)
	}
	a.Logger.Info("demo company created", "tenant_id", t.ID, "user_id", u.ID)
	fmt.Fprintf(out, "Demo company created. Sign in at %s/signin\n  username: %s\n  password: %s\n  (one-time: you will choose your own password at the first sign-in)\n",
		baseURL, DemoLogin, password)
	return nil
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
