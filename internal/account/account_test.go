package account_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"

	"github.com/google/uuid"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	u, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{
		Login:              "  Alice.Smith@Example.COM ",
		Email:              " alice@example.com ",
		DisplayName:        "  Alice Smith ",
		Language:           "sv",
		Role:               "recruiter",
		Password:           goodPassword,
		MustChangePassword: true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if id, err := uuid.Parse(u.ID); err != nil || id.Version() != 7 {
		t.Errorf("ID = %q, want a UUIDv7", u.ID)
	}
	checks := []struct{ field, got, want string }{
		{"TenantID", u.TenantID, c.ID},
		{"Login", u.Login, "alice.smith@example.com"},
		{"Email", u.Email, "alice@example.com"},
		{"DisplayName", u.DisplayName, "Alice Smith"},
		{"Language", u.Language, "sv"},
		{"Role", u.Role, "recruiter"},
		{"Status", string(u.Status), string(account.Active)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	if !u.MustChangePassword {
		t.Errorf("MustChangePassword = false, want true")
	}
	if !u.CreatedAt.Equal(start) || !u.PasswordChangedAt.Equal(start) {
		t.Errorf("CreatedAt, PasswordChangedAt = %v, %v; want %v (the service clock)", u.CreatedAt, u.PasswordChangedAt, start)
	}

	got, err := e.svc.UserByID(ctx, c.ID, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.TenantID != u.TenantID || got.ID != u.ID || got.Login != u.Login || got.Email != u.Email ||
		got.DisplayName != u.DisplayName || got.Language != u.Language || got.Role != u.Role || got.Status != u.Status ||
		got.MustChangePassword != u.MustChangePassword || !got.CreatedAt.Equal(u.CreatedAt) ||
		!got.PasswordChangedAt.Equal(u.PasswordChangedAt) {
		t.Errorf("UserByID = %+v, want %+v", got, u)
	}

	hash := e.passwordHash(t, u)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("stored hash = %q, want an argon2id hash with the service's parameters", hash)
	}
	if strings.Contains(hash, goodPassword) {
		t.Errorf("stored hash %q contains the password", hash)
	}
}

func TestCreateUserDefaultRole(t *testing.T) {
	e := newFastEnv(t)
	u := e.user(t, e.company(t, "acme").ID, "alice", goodPassword)
	if u.Role != account.RoleAdministrator {
		t.Errorf("Role = %q, want %q", u.Role, account.RoleAdministrator)
	}
	if u.MustChangePassword {
		t.Errorf("MustChangePassword = true, want false")
	}
}

func TestCreateUserValidation(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	valid := func(login string) account.CreateUserInput {
		return account.CreateUserInput{Login: login, Email: login + "@example.com", DisplayName: "Someone", Language: "en", Password: goodPassword}
	}
	tests := []struct {
		name   string
		mutate func(in *account.CreateUserInput)
		want   map[string]string // nil: the user is created
	}{
		{"valid", func(in *account.CreateUserInput) {}, nil},
		{"login 3 characters", func(in *account.CreateUserInput) { in.Login = "abc" }, nil},
		{"login 100 characters", func(in *account.CreateUserInput) { in.Login = strings.Repeat("b", 100) }, nil},
		{"login with all allowed signs", func(in *account.CreateUserInput) { in.Login = "a.b_c-d+e@f1" }, nil},
		{"login in another script", func(in *account.CreateUserInput) { in.Login = "Åsa.Ñúñez" }, nil},
		{"empty email", func(in *account.CreateUserInput) { in.Email = "" }, nil},
		{"empty language", func(in *account.CreateUserInput) { in.Language = "" }, nil},
		{"display name 200 characters", func(in *account.CreateUserInput) { in.DisplayName = strings.Repeat("ä", 200) }, nil},

		{"login empty", func(in *account.CreateUserInput) { in.Login = "" }, map[string]string{"login": "error.login_format"}},
		{"login only spaces", func(in *account.CreateUserInput) { in.Login = "   " }, map[string]string{"login": "error.login_format"}},
		{"login 2 characters", func(in *account.CreateUserInput) { in.Login = "ab" }, map[string]string{"login": "error.login_format"}},
		{"login 101 characters", func(in *account.CreateUserInput) { in.Login = strings.Repeat("c", 101) }, map[string]string{"login": "error.login_format"}},
		{"login with space", func(in *account.CreateUserInput) { in.Login = "al ice" }, map[string]string{"login": "error.login_format"}},
		{"login with slash", func(in *account.CreateUserInput) { in.Login = "al/ice" }, map[string]string{"login": "error.login_format"}},
		{"login with quote", func(in *account.CreateUserInput) { in.Login = "al'ice" }, map[string]string{"login": "error.login_format"}},
		{"login with NUL", func(in *account.CreateUserInput) { in.Login = "ali\x00ce" }, map[string]string{"login": "error.login_format"}},
		{"login invalid UTF-8", func(in *account.CreateUserInput) { in.Login = "alice\xff" }, map[string]string{"login": "error.login_format"}},
		{"email without at", func(in *account.CreateUserInput) { in.Email = "not-an-email" }, map[string]string{"email": "error.email_format"}},
		{"email with name", func(in *account.CreateUserInput) { in.Email = "Alice <alice@example.com>" }, map[string]string{"email": "error.email_format"}},
		{"email two addresses", func(in *account.CreateUserInput) { in.Email = "a@example.com, b@example.com" }, map[string]string{"email": "error.email_format"}},
		{"email 255 bytes", func(in *account.CreateUserInput) { in.Email = strings.Repeat("a", 243) + "@example.com" }, map[string]string{"email": "error.email_format"}},
		{"display name empty", func(in *account.CreateUserInput) { in.DisplayName = "" }, map[string]string{"display_name": "error.display_name"}},
		{"display name only spaces", func(in *account.CreateUserInput) { in.DisplayName = "   " }, map[string]string{"display_name": "error.display_name"}},
		{"display name 201 characters", func(in *account.CreateUserInput) { in.DisplayName = strings.Repeat("ä", 201) }, map[string]string{"display_name": "error.display_name"}},
		{"display name with newline", func(in *account.CreateUserInput) { in.DisplayName = "Alice\nSmith" }, map[string]string{"display_name": "error.display_name"}},
		{"display name with DEL", func(in *account.CreateUserInput) { in.DisplayName = "Alice\x7f" }, map[string]string{"display_name": "error.display_name"}},
		{"display name invalid UTF-8", func(in *account.CreateUserInput) { in.DisplayName = "Alice\xff" }, map[string]string{"display_name": "error.display_name"}},
		{"unknown language", func(in *account.CreateUserInput) { in.Language = "de" }, map[string]string{"language": "error.language"}},
		{"language in upper case", func(in *account.CreateUserInput) { in.Language = "EN" }, map[string]string{"language": "error.language"}},
		{"password short", func(in *account.CreateUserInput) { in.Password = "abc12" }, map[string]string{"password": "error.password_short"}},
		{"password one class", func(in *account.CreateUserInput) { in.Password = "onlyletters" }, map[string]string{"password": "error.password_classes"}},
		{"password contains login", func(in *account.CreateUserInput) { in.Login = "Mallory"; in.Password = "mallory-2024" },
			map[string]string{"password": "error.password_contains_login"}},
		{"password invalid UTF-8", func(in *account.CreateUserInput) { in.Password = goodPassword + "\xff" }, map[string]string{"password": "error.password_invalid"}},
		{"several fields", func(in *account.CreateUserInput) {
			in.Login = "x"
			in.Email = "nope"
			in.DisplayName = ""
			in.Language = "xx"
			in.Password = "short"
		}, map[string]string{
			"login": "error.login_format", "email": "error.email_format", "display_name": "error.display_name",
			"language": "error.language", "password": "error.password_short",
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid("user" + string(rune('a'+i%26)) + strings.Repeat("x", i/26))
			tt.mutate(&in)
			before := e.count(t, `SELECT count(*) FROM users`)
			u, err := e.svc.CreateUser(ctx, access.Operator(c.ID), in)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CreateUser: %v, want success", err)
				}
				if u == nil || u.ID == "" {
					t.Fatalf("CreateUser returned user %+v, want a created user", u)
				}
				if err := account.ValidateUser(in); err != nil {
					t.Errorf("ValidateUser = %v, want nil", err)
				}
				return
			}
			var ve *fault.Invalid
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *fault.Invalid", err)
			}
			if !maps.Equal(ve.Fields, tt.want) {
				t.Errorf("fields = %v, want %v", ve.Fields, tt.want)
			}
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			if after := e.count(t, `SELECT count(*) FROM users`); after != before {
				t.Errorf("users = %d after a rejected input, want %d", after, before)
			}
			err = account.ValidateUser(in)
			if !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.want) {
				t.Errorf("ValidateUser = %v, want fields %v", err, tt.want)
			}
		})
	}
}

func TestCreateUserLoginUniqueAcrossTenants(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	e.user(t, a.ID, "alice", goodPassword)
	e.user(t, a.ID, "josé", goodPassword) // NFC: U+00E9
	tests := []struct {
		name     string
		tenantID string
		login    string
		want     error
	}{
		{"same login, other company", b.ID, "alice", account.ErrLoginTaken},
		{"other case, other company", b.ID, "ALICE", account.ErrLoginTaken},
		{"mixed case, same company", a.ID, "Alice", account.ErrLoginTaken},
		{"surrounding spaces", b.ID, "  alice ", account.ErrLoginTaken},
		{"decomposed form", b.ID, "jose\u0301", account.ErrLoginTaken},
		{"free login", b.ID, "bob", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count(t, `SELECT count(*) FROM users`)
			u, err := e.svc.CreateUser(ctx, access.Operator(tt.tenantID), account.CreateUserInput{Login: tt.login, DisplayName: "X", Password: goodPassword})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			want := before
			if tt.want == nil {
				want++
			} else if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			if got := e.count(t, `SELECT count(*) FROM users`); got != want {
				t.Errorf("users = %d, want %d", got, want)
			}
		})
	}
}

func TestCreateUserUnknownTenant(t *testing.T) {
	e := newFastEnv(t)
	e.company(t, "acme")
	for _, id := range []string{id.New(), "no-such-company"} {
		t.Run(id, func(t *testing.T) {
			u, err := e.svc.CreateUser(context.Background(), access.Operator(id), account.CreateUserInput{Login: "alice", DisplayName: "Alice", Password: goodPassword})
			if !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("err = %v, want tenant.ErrNotFound", err)
			}
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			if n := e.count(t, `SELECT count(*) FROM users`); n != 0 {
				t.Errorf("users = %d, want 0", n)
			}
		})
	}
}

func TestCreateUserTx(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	errRollback := errors.New("roll back")
	tests := []struct {
		name    string
		in      account.CreateUserInput
		fail    bool // the caller's transaction fails after the insert
		wantErr error
		wantVE  string // field of the expected ValidationError
		want    int    // users afterwards
	}{
		{"committed", account.CreateUserInput{Login: "alice", DisplayName: "Alice", Password: goodPassword}, false, nil, "", 1},
		{"rolled back", account.CreateUserInput{Login: "bob", DisplayName: "Bob", Password: goodPassword}, true, errRollback, "", 1},
		{"invalid", account.CreateUserInput{Login: "carol", DisplayName: "", Password: goodPassword}, false, nil, "display_name", 1},
		{"login taken", account.CreateUserInput{Login: "ALICE", DisplayName: "Alice 2", Password: goodPassword}, false, account.ErrLoginTaken, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var created *account.User
			err := e.db.InTx(ctx, c.ID, func(tx *sql.Tx) error {
				u, err := e.svc.CreateUserTx(ctx, tx, access.Operator(c.ID), tt.in)
				if err != nil {
					return err
				}
				created = u
				if tt.fail {
					return errRollback
				}
				return nil
			})
			if tt.wantVE != "" {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[tt.wantVE] == "" {
					t.Errorf("err = %v, want a ValidationError on %s only", err, tt.wantVE)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := e.count(t, `SELECT count(*) FROM users`); got != tt.want {
				t.Errorf("users = %d, want %d", got, tt.want)
			}
			if tt.fail && created != nil {
				if _, err := e.svc.UserByID(ctx, c.ID, created.ID); !errors.Is(err, account.ErrNotFound) {
					t.Errorf("UserByID of a rolled-back user: err = %v, want ErrNotFound", err)
				}
			}
		})
	}
}

func TestUserLookupTenantIsolation(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	alice := e.user(t, a.ID, "alice", goodPassword)
	bob := e.user(t, b.ID, "bob", goodPassword)

	byID := []struct {
		name     string
		tenantID string
		id       string
		want     string // login, or "" for ErrNotFound
	}{
		{"own company", a.ID, alice.ID, "alice"},
		{"other company's user", a.ID, bob.ID, ""},
		{"user asked through other company", b.ID, alice.ID, ""},
		{"unknown id", a.ID, id.New(), ""},
		{"unknown company", id.New(), alice.ID, ""},
		{"empty", "", "", ""},
	}
	for _, tt := range byID {
		t.Run("UserByID/"+tt.name, func(t *testing.T) {
			checkUser(t, tt.want)(e.svc.UserByID(ctx, tt.tenantID, tt.id))
		})
	}

	byLogin := []struct {
		name     string
		tenantID string
		login    string
		want     string
	}{
		{"own company", a.ID, "alice", "alice"},
		{"other case and spaces", a.ID, " ALICE ", "alice"},
		{"other company's login", a.ID, "bob", ""},
		{"login asked through other company", b.ID, "alice", ""},
		{"unknown", a.ID, "nobody", ""},
	}
	for _, tt := range byLogin {
		t.Run("UserByLogin/"+tt.name, func(t *testing.T) {
			checkUser(t, tt.want)(e.svc.UserByLogin(ctx, tt.tenantID, tt.login))
		})
	}

	anyLogin := []struct{ login, want string }{
		{"alice", "alice"},
		{" Bob ", "bob"},
		{"nobody", ""},
	}
	for _, tt := range anyLogin {
		t.Run("UserByAnyLogin/"+tt.login, func(t *testing.T) {
			checkUser(t, tt.want)(e.svc.UserByAnyLogin(ctx, tt.login))
		})
	}
}

// checkUser returns a check of a lookup's result: the user with login want,
// or ErrNotFound when want is "".
func checkUser(t *testing.T, want string) func(*account.User, error) {
	return func(u *account.User, err error) {
		t.Helper()
		if want == "" {
			if !errors.Is(err, account.ErrNotFound) || u != nil {
				t.Errorf("got %+v, %v; want nil, ErrNotFound", u, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		if u.Login != want {
			t.Errorf("login = %q, want %q", u.Login, want)
		}
	}
}

func TestListUsers(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	empty := e.company(t, "empty")
	for _, u := range []struct{ tenantID, login, name string }{
		{a.ID, "carol", "Carol"},
		{a.ID, "alice", "Alice"},
		{b.ID, "dave", "Dave"},
		{a.ID, "sam.b", "Sam"},
		{a.ID, "bob", "Bob"},
		{a.ID, "sam.a", "Sam"},
	} {
		if _, err := e.svc.CreateUser(ctx, access.Operator(u.tenantID), account.CreateUserInput{Login: u.login, DisplayName: u.name, Password: goodPassword}); err != nil {
			t.Fatalf("create %s: %v", u.login, err)
		}
	}
	tests := []struct {
		name     string
		tenantID string
		want     []string
	}{
		{"by display name then login", a.ID, []string{"alice", "bob", "carol", "sam.a", "sam.b"}},
		{"other company", b.ID, []string{"dave"}},
		{"company without users", empty.ID, nil},
		{"unknown company", id.New(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := e.svc.ListUsers(ctx, tt.tenantID)
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Login)
				if u.TenantID != tt.tenantID {
					t.Errorf("user %s has tenant %s, want %s", u.Login, u.TenantID, tt.tenantID)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("logins = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetStatusErrors(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	alice := e.user(t, a.ID, "alice", goodPassword)
	token := e.session(t, alice)
	tests := []struct {
		name     string
		tenantID string
		userID   string
		status   account.Status
		wantErr  error
		wantVE   map[string]string
	}{
		{"unknown status", a.ID, alice.ID, "deleted", nil, map[string]string{"status": "error.status"}},
		{"empty status", a.ID, alice.ID, "", nil, map[string]string{"status": "error.status"}},
		{"unknown user", a.ID, id.New(), account.Disabled, account.ErrNotFound, nil},
		{"user through other company", b.ID, alice.ID, account.Disabled, account.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.SetStatus(ctx, access.Operator(tt.tenantID), tt.userID, tt.status)
			if tt.wantVE != nil {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.wantVE) {
					t.Errorf("err = %v, want ValidationError %v", err, tt.wantVE)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			u, err := e.svc.UserByID(ctx, a.ID, alice.ID)
			if err != nil || u.Status != account.Active {
				t.Errorf("alice after a failed SetStatus: %+v, %v; want active", u, err)
			}
			if _, err := e.svc.Authenticate(ctx, token); err != nil {
				t.Errorf("alice's session after a failed SetStatus: %v, want valid", err)
			}
		})
	}
}

func TestSetStatusDisable(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	alice := e.user(t, a.ID, "alice", goodPassword)
	bob := e.user(t, a.ID, "bob", goodPassword)
	t1, t2 := e.session(t, alice), e.session(t, alice)
	bobToken := e.session(t, bob)

	if err := e.svc.SetStatus(ctx, access.Operator(a.ID), alice.ID, account.Disabled); err != nil {
		t.Fatalf("SetStatus(disabled): %v", err)
	}
	if u, err := e.svc.UserByID(ctx, a.ID, alice.ID); err != nil || u.Status != account.Disabled {
		t.Fatalf("UserByID after disabling = %+v, %v; want status disabled", u, err)
	}
	if n := e.sessionsOf(t, alice); n != 0 {
		t.Errorf("alice's sessions = %d after disabling, want 0", n)
	}
	for _, tok := range []string{t1, t2} {
		if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("Authenticate(old session) = %v, want ErrNoSession", err)
		}
	}
	if _, err := e.svc.Authenticate(ctx, bobToken); err != nil {
		t.Errorf("bob's session after disabling alice: %v, want valid", err)
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("SignIn(disabled) = %v, want ErrInvalidCredentials", err)
	}
	if err := e.svc.SetStatus(ctx, access.Operator(a.ID), alice.ID, account.Disabled); err != nil {
		t.Errorf("SetStatus(disabled) again: %v, want nil", err)
	}

	if err := e.svc.SetStatus(ctx, access.Operator(a.ID), alice.ID, account.Active); err != nil {
		t.Fatalf("SetStatus(active): %v", err)
	}
	if _, p, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); err != nil || p.UserID != alice.ID {
		t.Errorf("SignIn after re-enabling = %+v, %v; want alice", p, err)
	}
}

func TestChangePasswordErrors(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	alice, err := e.svc.CreateUser(ctx, access.Operator(a.ID), account.CreateUserInput{Login: "alice", DisplayName: "Alice", Password: goodPassword, MustChangePassword: true})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	dave := e.user(t, a.ID, "dave", goodPassword)
	if err := e.svc.SetStatus(ctx, access.Operator(a.ID), dave.ID, account.Disabled); err != nil {
		t.Fatalf("disable dave: %v", err)
	}
	token := e.session(t, alice)
	hash := e.passwordHash(t, alice)

	tests := []struct {
		name             string
		tenantID, userID string
		current, next    string
		wantErr          error
		wantVE           map[string]string
	}{
		{"wrong current", a.ID, alice.ID, otherPassword, "brand new 3", account.ErrWrongPassword, nil},
		{"wrong current and weak new", a.ID, alice.ID, otherPassword, "weak", account.ErrWrongPassword, nil},
		{"empty current", a.ID, alice.ID, "", "brand new 3", account.ErrWrongPassword, nil},
		{"new too short", a.ID, alice.ID, goodPassword, "abc1", nil, map[string]string{"new_password": "error.password_short"}},
		{"new one class", a.ID, alice.ID, goodPassword, "abcdefghijk", nil, map[string]string{"new_password": "error.password_classes"}},
		{"new contains login", a.ID, alice.ID, goodPassword, "my-ALICE-99", nil, map[string]string{"new_password": "error.password_contains_login"}},
		{"new same as current", a.ID, alice.ID, goodPassword, goodPassword, nil, map[string]string{"new_password": "error.password_reused"}},
		{"unknown user", a.ID, id.New(), goodPassword, "brand new 3", account.ErrNotFound, nil},
		{"user through other company", b.ID, alice.ID, goodPassword, "brand new 3", account.ErrNotFound, nil},
		{"disabled user", a.ID, dave.ID, goodPassword, "brand new 3", account.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ChangePassword(ctx, access.Actor{TenantID: tt.tenantID, UserID: tt.userID}, tt.current, tt.next, account.Client{})
			if tt.wantVE != nil {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.wantVE) {
					t.Errorf("err = %v, want ValidationError %v", err, tt.wantVE)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := e.passwordHash(t, alice); got != hash {
				t.Errorf("alice's hash changed after a failed ChangePassword")
			}
			if !e.sessionExists(t, token) {
				t.Errorf("alice's session ended after a failed ChangePassword")
			}
			if u, err := e.svc.UserByID(ctx, a.ID, alice.ID); err != nil || !u.MustChangePassword {
				t.Errorf("alice after a failed ChangePassword = %+v, %v; want MustChangePassword still set", u, err)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	alice, err := e.svc.CreateUser(ctx, access.Operator(a.ID), account.CreateUserInput{Login: "alice", DisplayName: "Alice", Password: goodPassword, MustChangePassword: true})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	bob := e.user(t, a.ID, "bob", goodPassword)
	aliceTokens := []string{e.session(t, alice), e.session(t, alice)}
	bobToken := e.session(t, bob)

	e.clock.advance(10 * time.Minute)
	if err := e.svc.ChangePassword(ctx, access.Actor{TenantID: a.ID, UserID: alice.ID}, goodPassword, otherPassword, account.Client{}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	u, err := e.svc.UserByID(ctx, a.ID, alice.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if u.MustChangePassword {
		t.Errorf("MustChangePassword = true after a change, want false")
	}
	if want := start.Add(10 * time.Minute); !u.PasswordChangedAt.Equal(want) {
		t.Errorf("PasswordChangedAt = %v, want %v", u.PasswordChangedAt, want)
	}
	if n := e.sessionsOf(t, alice); n != 0 {
		t.Errorf("alice's sessions = %d after a change, want 0", n)
	}
	for _, tok := range aliceTokens {
		if _, err := e.svc.Authenticate(ctx, tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("Authenticate(alice's old session) = %v, want ErrNoSession", err)
		}
	}
	if p, err := e.svc.Authenticate(ctx, bobToken); err != nil || p.UserID != bob.ID {
		t.Errorf("Authenticate(bob's session) = %+v, %v; want bob, still signed in", p, err)
	}
	if _, _, err := e.svc.SignIn(ctx, "alice", goodPassword, account.Client{}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("SignIn(old password) = %v, want ErrInvalidCredentials", err)
	}
	_, p, err := e.svc.SignIn(ctx, "alice", otherPassword, account.Client{})
	if err != nil {
		t.Fatalf("SignIn(new password): %v", err)
	}
	if p.MustChangePassword {
		t.Errorf("principal MustChangePassword = true, want false")
	}
}

func TestUpdateProfile(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	a := e.company(t, "acme")
	b := e.company(t, "beta")
	alice := e.user(t, a.ID, "alice", goodPassword)
	tests := []struct {
		name     string
		tenantID string
		userID   string
		in       account.ProfileInput
		wantErr  error
		wantVE   map[string]string
		wantName string // stored afterwards
		wantLang string
	}{
		{"name and language", a.ID, alice.ID, account.ProfileInput{DisplayName: "  Alice S. ", Language: "cs"}, nil, nil, "Alice S.", "cs"},
		{"language follows browser", a.ID, alice.ID, account.ProfileInput{DisplayName: "Alice", Language: ""}, nil, nil, "Alice", ""},
		{"empty name", a.ID, alice.ID, account.ProfileInput{DisplayName: " ", Language: "en"}, nil,
			map[string]string{"display_name": "error.display_name"}, "Alice", ""},
		{"name with control", a.ID, alice.ID, account.ProfileInput{DisplayName: "A\tB"}, nil,
			map[string]string{"display_name": "error.display_name"}, "Alice", ""},
		{"unknown language", a.ID, alice.ID, account.ProfileInput{DisplayName: "Alice", Language: "fr"}, nil,
			map[string]string{"language": "error.language"}, "Alice", ""},
		{"both wrong", a.ID, alice.ID, account.ProfileInput{DisplayName: "", Language: "fr"}, nil,
			map[string]string{"display_name": "error.display_name", "language": "error.language"}, "Alice", ""},
		{"unknown user", a.ID, id.New(), account.ProfileInput{DisplayName: "X"}, account.ErrNotFound, nil, "Alice", ""},
		{"user through other company", b.ID, alice.ID, account.ProfileInput{DisplayName: "X"}, account.ErrNotFound, nil, "Alice", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.UpdateProfile(ctx, access.Actor{TenantID: tt.tenantID, UserID: tt.userID}, tt.in)
			if tt.wantVE != nil {
				var ve *fault.Invalid
				if !errors.As(err, &ve) || !maps.Equal(ve.Fields, tt.wantVE) {
					t.Errorf("err = %v, want ValidationError %v", err, tt.wantVE)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			u, err := e.svc.UserByID(ctx, a.ID, alice.ID)
			if err != nil {
				t.Fatalf("UserByID: %v", err)
			}
			if u.DisplayName != tt.wantName || u.Language != tt.wantLang {
				t.Errorf("stored name, language = %q, %q; want %q, %q", u.DisplayName, u.Language, tt.wantName, tt.wantLang)
			}
		})
	}
}
