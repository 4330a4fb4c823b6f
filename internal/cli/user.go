package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/config"
)

func sortStrings(s []string) { sort.Strings(s) }

func runUser(ctx context.Context, env *Env, args []string) error {
	setStatus := func(action string, st account.Status) func([]string) error {
		return func(args []string) error {
			f := newFlags(env, "user "+action, "user "+action+" --login LOGIN [flags]", config.Installation)
			login := f.String("login", "", "the user's login")
			a, err := f.parseOpen(ctx, args)
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := a.Accounts.UserByAnyLogin(ctx, *login)
			if err != nil {
				return userError(err)
			}
			if err := a.Accounts.SetStatus(ctx, audit.Operator, u.TenantID, u.ID, st); err != nil {
				return userError(err)
			}
			fmt.Fprintf(env.Stdout, "user %s is now %s\n", u.Login, st)
			return nil
		}
	}
	return subcommand(env, "user", args, map[string]func([]string) error{
		"create": func(args []string) error {
			f := newFlags(env, "user create", "user create --tenant SLUG --login LOGIN --name \"Full Name\" [--email E] [--password-stdin] [flags]", config.Installation)
			ref := f.String("tenant", "", "company slug or id")
			login := f.String("login", "", "login identifier, unique in the installation (an email may be used)")
			name := f.String("name", "", "full name")
			email := f.String("email", "", "email address")
			lang := f.String("language", "", "language of the user (empty: the browser's)")
			role := f.String("role", account.RoleAdministrator, "administrator, hr_manager, recruiter, recruiter_without_credits, line_manager, case_handler, or the id of a custom role")
			fromStdin := f.Bool("password-stdin", false, "read the password from standard input instead of generating a one-time password")
			hashStdin := f.Bool("password-hash-stdin", false, "read a password hash imported from another system (argon2id, PBKDF2-HMAC-SHA256, bcrypt) from standard input; it is replaced by argon2id at the first sign-in")
			if err := f.parse(args); err != nil {
				return err
			}
			password, mustChange := "", true
			if *hashStdin {
				line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
				hash := strings.TrimSpace(line)
				a, err := f.open(ctx, false)
				if err != nil {
					return err
				}
				defer a.Close()
				t, err := a.Tenants.ByRef(ctx, *ref)
				if err != nil {
					return tenantError(err)
				}
				u, err := a.Accounts.ImportUser(ctx, audit.Operator, t.ID, account.CreateUserInput{
					Login: *login, Email: *email, DisplayName: *name, Language: *lang, Role: *role, Via: "cli"}, hash)
				if err != nil {
					return userError(err)
				}
				fmt.Fprintf(env.Stdout, "imported user %s in %s, id %s\n", u.Login, t.Slug, u.ID)
				return nil
			}
			if *fromStdin {
				line, err := bufio.NewReader(env.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("--password-stdin: no password on standard input")
				}
				password, mustChange = strings.TrimRight(line, "\r\n"), false
			} else {
				var err error
				if password, err = app.InitialPassword(); err != nil {
					return err
				}
			}
			a, err := f.open(ctx, false)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.Tenants.ByRef(ctx, *ref)
			if err != nil {
				return tenantError(err)
			}
			u, err := a.Accounts.CreateUser(ctx, audit.Operator, t.ID, account.CreateUserInput{
				Login: *login, Email: *email, DisplayName: *name, Language: *lang, Role: *role,
				Password: password, MustChangePassword: mustChange, Via: "cli",
			})
			if err != nil {
				return userError(err)
			}
			fmt.Fprintf(env.Stdout, "created user %s in %s, id %s\n", u.Login, t.Slug, u.ID)
			if mustChange {
				fmt.Fprintf(env.Stdout, "one-time password: %s\n(the user chooses their own at the first sign-in)\n", password)
			}
			return nil
		},
		"list": func(args []string) error {
			f := newFlags(env, "user list", "user list --tenant SLUG|ID [flags]", config.Installation)
			ref := f.String("tenant", "", "company slug or id")
			a, t, err := f.openCompany(ctx, args, ref)
			if err != nil {
				return err
			}
			defer a.Close()
			users, err := a.Accounts.ListUsers(ctx, t.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tSTATUS\tID")
			for _, u := range users {
				status := string(u.Status)
				if u.MustChangePassword {
					status += " (must change password)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Login, u.DisplayName, u.Role, status, u.ID)
			}
			return tw.Flush()
		},
		"unlock": func(args []string) error {
			f := newFlags(env, "user unlock", "user unlock --login LOGIN [flags]  (lift a lockout after failed sign-ins)", config.Installation)
			login := f.String("login", "", "the user's login")
			a, err := f.parseOpen(ctx, args)
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := a.Accounts.UserByAnyLogin(ctx, *login)
			if err != nil {
				return userError(err)
			}
			if err := a.Accounts.UnlockByOperator(ctx, u.TenantID, u.ID); err != nil {
				return userError(err)
			}
			fmt.Fprintf(env.Stdout, "user %s can sign in with a password again\n", u.Login)
			return nil
		},
		"disable": setStatus("disable", account.Disabled),
		"enable":  setStatus("enable", account.Active),
	})
}

func userError(err error) error {
	var ve *account.ValidationError
	switch {
	case errors.As(err, &ve):
		return describeFields(ve.Fields, map[string]string{"display_name": "name", "password": "password-stdin", "password_hash": "password-hash-stdin"})
	case errors.Is(err, account.ErrLoginTaken):
		return errors.New("--login: this login is already in use")
	case errors.Is(err, account.ErrNotFound):
		return errors.New("--login: no user with this login")
	}
	return tenantError(err)
}
