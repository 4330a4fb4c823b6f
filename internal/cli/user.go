package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/app"
	"github.com/kandidat/kandidat/internal/config"
	"github.com/kandidat/kandidat/internal/fault"
)

func sortStrings(s []string) { sort.Strings(s) }

// userCreate is "user create": a user with a one-time password (or one
// read from standard input), or with a password hash imported from
// another system.
func userCreate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "user create", "user create --tenant SLUG --login LOGIN --name \"Full Name\" [--email E] [--password-stdin] [flags]", config.Installation)
	ref := f.String("tenant", "", "company slug or id")
	in := account.CreateUserInput{Via: "cli"}
	f.StringVar(&in.Login, "login", "", "login identifier, unique in the installation (an email may be used)")
	f.StringVar(&in.DisplayName, "name", "", "full name")
	f.StringVar(&in.Email, "email", "", "email address")
	f.StringVar(&in.Language, "language", "", "language of the user (empty: the browser's)")
	f.StringVar(&in.Role, "role", account.RoleAdministrator, "administrator, hr_manager, recruiter, recruiter_without_credits, line_manager, case_handler, or the id of a custom role")
	fromStdin := f.Bool("password-stdin", false, "read the password from standard input instead of generating a one-time password")
	hashStdin := f.Bool("password-hash-stdin", false, "read a password hash imported from another system (argon2id, PBKDF2-HMAC-SHA256, bcrypt) from standard input; it is replaced by argon2id at the first sign-in")
	if err := f.parse(args); err != nil {
		return err
	}
	if *hashStdin {
		return importUser(ctx, env, f, *ref, in)
	}
	var err error
	if in.Password, in.MustChangePassword, err = newUserPassword(env, *fromStdin); err != nil {
		return err
	}
	a, t, err := f.openTenant(ctx, *ref)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.CreateUser(ctx, access.Operator(t.ID), in)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(env.Stdout, "created user %s in %s, id %s\n", u.Login, t.Slug, u.ID)
	if in.MustChangePassword {
		fmt.Fprintf(env.Stdout, "one-time password: %s\n(the user chooses their own at the first sign-in)\n", in.Password)
	}
	return nil
}

// newUserPassword is the password of a new user: the line on standard
// input with fromStdin, which the user keeps, or else a generated one-time
// password the user must change.
func newUserPassword(env *Env, fromStdin bool) (password string, mustChange bool, err error) {
	if !fromStdin {
		password, err = app.InitialPassword()
		return password, true, err
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, errors.New("--password-stdin: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

// importUser is "user create --password-hash-stdin": the hash on standard
// input becomes the user's password until the first sign-in replaces it.
func importUser(ctx context.Context, env *Env, f *flags, ref string, in account.CreateUserInput) error {
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	hash := strings.TrimSpace(line)
	a, t, err := f.openTenant(ctx, ref)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.ImportUser(ctx, access.Operator(t.ID), in, hash)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(env.Stdout, "imported user %s in %s, id %s\n", u.Login, t.Slug, u.ID)
	return nil
}

// userList is "user list": a company's users with their role and status.
func userList(ctx context.Context, env *Env, args []string) error {
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
}

// userUnlock is "user unlock": lifts a lockout after failed sign-ins.
func userUnlock(ctx context.Context, env *Env, args []string) error {
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
	if err := a.Accounts.UnlockByOperator(ctx, access.Operator(u.TenantID), u.ID); err != nil {
		return userError(err)
	}
	fmt.Fprintf(env.Stdout, "user %s can sign in with a password again\n", u.Login)
	return nil
}

// userDisable is "user disable": the user can no longer sign in.
func userDisable(ctx context.Context, env *Env, args []string) error {
	return setUserStatus(ctx, env, "disable", account.Disabled, args)
}

// userEnable is "user enable": a disabled user can sign in again.
func userEnable(ctx context.Context, env *Env, args []string) error {
	return setUserStatus(ctx, env, "enable", account.Active, args)
}

// setUserStatus gives the user of --login the status st; action is the
// name it was called by, for its help.
func setUserStatus(ctx context.Context, env *Env, action string, st account.Status, args []string) error {
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
	if err := a.Accounts.SetStatus(ctx, access.Operator(u.TenantID), u.ID, st); err != nil {
		return userError(err)
	}
	fmt.Fprintf(env.Stdout, "user %s is now %s\n", u.Login, st)
	return nil
}

func userError(err error) error {
	var ve *fault.Invalid
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
