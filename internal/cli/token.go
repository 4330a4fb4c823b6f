package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/fault"
)

// The operator's API tokens (docs/api.md). The operator acts for the
// company with the right to manage its tokens and nothing else; a token it
// makes acts as a service user of the company, holds at most that user's
// permissions, and is recorded in the trail as made by the operator.

// tokenOperator is the operator acting on a company's tokens.
func tokenOperator(tenantID string) access.Actor {
	return access.Operator(tenantID, access.ManageAPITokens)
}

// companyFlag registers --company (and --tenant, as the other commands
// call it) into one value.
func companyFlag(f *flags) *string {
	ref := f.String("company", "", "company slug or id (required)")
	f.StringVar(ref, "tenant", "", "the same as --company")
	return ref
}

// parseExpiry reads --expires: a number of days ("90d" or "90"), or
// "never".
func parseExpiry(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "never" || v == "none" {
		return time.Time{}, nil
	}
	days, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || days < 1 || days > account.MaxTokenDays {
		return time.Time{}, fmt.Errorf("--expires: a number of days from 1 to %d (e.g. 90d), or never", account.MaxTokenDays)
	}
	return now.AddDate(0, 0, days), nil
}

// parseScopes reads --scopes: permission names separated by commas.
func parseScopes(v string) (access.Set, error) {
	var set access.Set
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p, ok := access.Parse(name)
		if !ok {
			return 0, fmt.Errorf("--scopes: unknown permission %q; the permissions are %s", name, strings.Join(access.Names(), ", "))
		}
		set |= access.Of(p)
	}
	if set == 0 {
		return 0, errors.New("--scopes: name at least one permission, e.g. positions.view,applications.view")
	}
	return set, nil
}

func tokenError(err error) error {
	var ve *fault.Invalid
	switch {
	case errors.Is(err, account.ErrScopeNotHeld):
		return errors.New("--scopes: the user does not hold every permission named; see kandidat user list for its role")
	case errors.Is(err, account.ErrNotServiceUser):
		return errors.New("--user: a token made at the command line acts as a service user; make one with kandidat token service-user")
	case errors.Is(err, account.ErrServiceUserRole):
		return errors.New("--role: a service user may not manage users or roles; choose another role")
	case errors.Is(err, account.ErrTokenNotFound):
		return errors.New("the company has no token with this id; see kandidat token list")
	case errors.As(err, &ve):
		return describeFields(ve.Fields, map[string]string{"display_name": "name", "expires_at": "expires"})
	}
	return err
}

// tokenCreate is "token create": a token acting as a service user,
// whose secret is printed once.
func tokenCreate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "token create", "token create --company SLUG --user LOGIN --name NAME --scopes a,b [--expires 90d|never] [flags]", config.Installation)
	ref := companyFlag(f)
	login := f.String("user", "", "login of the service user the token acts as (kandidat token service-user makes one)")
	name := f.String("name", "", "what the token is for, e.g. the integration's name")
	scopes := f.String("scopes", "", "permissions the token holds, separated by commas (within the user's), e.g. positions.view,applications.view")
	expires := f.String("expires", "90d", "days until it stops working (at most "+strconv.Itoa(account.MaxTokenDays)+"), or never")
	if err := f.parse(args); err != nil {
		return err
	}
	set, err := parseScopes(*scopes)
	if err != nil {
		return err
	}
	until, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	if strings.TrimSpace(*login) == "" {
		return errors.New("--user: name the login of the service user the token acts as")
	}
	a, t, err := f.openTenant(ctx, *ref)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.UserByLogin(ctx, t.ID, *login)
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("--user: %s has no user with this login; see kandidat user list", t.Slug)
	}
	if err != nil {
		return err
	}
	tok, secret, err := a.Accounts.CreateToken(ctx, tokenOperator(t.ID), account.TokenInput{Name: *name, UserID: u.ID, Scopes: set, ExpiresAt: until})
	if err != nil {
		return tokenError(err)
	}
	exp := "never"
	if !tok.ExpiresAt.IsZero() {
		exp = tok.ExpiresAt.Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(env.Stdout, "created token %s in %s acting as %s, scopes %s, expires %s\n", tok.ID, t.Slug, u.Login, tok.Scopes.Encode(), exp)
	fmt.Fprintf(env.Stdout, "secret (shown only this once; send it as Authorization: Bearer ...):\n%s\n", secret)
	return nil
}

// tokenList is "token list": the company's tokens, revoked ones included.
func tokenList(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "token list", "token list --company SLUG [flags]", config.Installation)
	ref := companyFlag(f)
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	tokens, err := a.Accounts.Tokens(ctx, tokenOperator(t.ID))
	if err != nil {
		return err
	}
	logins := map[string]string{"": "operator"}
	login := func(id string) string {
		if l, ok := logins[id]; ok {
			return l
		}
		l := id
		if u, err := a.Accounts.UserByID(ctx, t.ID, id); err == nil {
			l = u.Login
		}
		logins[id] = l
		return l
	}
	when := func(at time.Time, none string) string {
		if at.IsZero() {
			return none
		}
		return at.UTC().Format("2006-01-02 15:04")
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tUSER\tMADE BY\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, tok := range tokens {
		status := "active"
		switch {
		case !tok.RevokedAt.IsZero():
			status = "revoked " + when(tok.RevokedAt, "")
		case !tok.Active(now):
			status = "expired"
		}
		used := when(tok.LastUsedAt, "never")
		if tok.LastUsedIP != "" {
			used += " from " + tok.LastUsedIP
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", tok.ID, tok.Name, tok.Prefix, login(tok.UserID), login(tok.CreatedBy),
			tok.Scopes.Encode(), when(tok.CreatedAt, ""), when(tok.ExpiresAt, "never"), used, status)
	}
	return tw.Flush()
}

// tokenRevoke is "token revoke": the token stops at once.
func tokenRevoke(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "token revoke", "token revoke --company SLUG [flags] ID", config.Installation)
	ref := companyFlag(f)
	if err := f.parse(args); err != nil {
		return err
	}
	// The id may stand among the flags.
	var rest []string
	for f.NArg() > 0 {
		rest = append(rest, f.Arg(0))
		if err := f.parse(f.Args()[1:]); err != nil {
			return err
		}
	}
	if len(rest) != 1 {
		return errors.New("name one token id, as kandidat token list shows it")
	}
	a, t, err := f.openTenant(ctx, *ref)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Accounts.RevokeToken(ctx, tokenOperator(t.ID), rest[0]); err != nil {
		return tokenError(err)
	}
	fmt.Fprintf(env.Stdout, "revoked token %s of %s\n", rest[0], t.Slug)
	return nil
}

// tokenServiceUser is "token service-user": a user of the company that
// never signs in, for tokens to act as.
func tokenServiceUser(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "token service-user", "token service-user --company SLUG --name NAME [--role ROLE] [flags]", config.Installation)
	ref := companyFlag(f)
	name := f.String("name", "", "the service user's name, e.g. the integration's")
	role := f.String("role", access.Recruiter, "its role: hr_manager, recruiter, recruiter_without_credits, line_manager, case_handler, or the id of a custom role (not one managing users or roles)")
	a, t, err := f.openCompany(ctx, args, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.CreateServiceUser(ctx, tokenOperator(t.ID), *name, *role)
	if err != nil {
		return tokenError(err)
	}
	fmt.Fprintf(env.Stdout, "created service user %s in %s, id %s (it never signs in; tokens act as it)\n", u.Login, t.Slug, u.ID)
	return nil
}
