package account_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// fastArgon2 keeps the tests quick; the default parameters are tested on
// their own.
var fastArgon2 = testkit.FastArgon2

// A password that meets the policy, and another one.
const (
	goodPassword  = "correct horse 1"
	otherPassword = "battery staple 2"
)

// start is the fake clock's first reading.
var start = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is a fake time source moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func (c *clock) set(t time.Time)         { c.t = t }

// env is a migrated database with the services of a test.
type env struct {
	kit     *testkit.Kit
	db      *db.DB
	keys    *keys.Keyring
	tenants *tenant.Service
	svc     *account.Service
	clock   *clock
}

// newEnv returns an env whose account service uses opts as given (zero
// Argon2 parameters mean the defaults; a nil Cipher the keyring) and a
// fake clock at start.
func newEnv(t testing.TB, opts account.Options) *env {
	t.Helper()
	return newEnvOn(t, nil, opts)
}

// newEnvOn is newEnv on a database the test opened (a traced one), or a
// fresh one when d is nil.
func newEnvOn(t testing.TB, d *db.DB, opts account.Options) *env {
	t.Helper()
	if opts.Argon2 == (account.Argon2Params{}) {
		opts.Argon2 = account.DefaultArgon2
	}
	k := testkit.New(t, testkit.Options{DB: d})
	e := &env{kit: k, db: k.DB, keys: k.Keys, tenants: k.Tenants, svc: k.NewAccounts(opts), clock: &clock{t: start}}
	e.svc.SetClock(e.clock.now)
	return e
}

// newFastEnv returns an env with cheap password hashing.
func newFastEnv(t testing.TB) *env {
	t.Helper()
	return newEnv(t, account.Options{Argon2: fastArgon2, ThrottleBase: time.Millisecond})
}

// company creates a company with the slug.
func (e *env) company(t testing.TB, slug string) *tenant.Tenant {
	t.Helper()
	c, err := e.tenants.Create(context.Background(), audit.Operator, tenant.CreateInput{Slug: slug, Name: "Company " + slug})
	if err != nil {
		t.Fatalf("create company %s: %v", slug, err)
	}
	return c
}

// user creates an active user with the login and password in a company.
func (e *env) user(t testing.TB, tenantID, login, password string) *account.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), access.Operator(tenantID), account.CreateUserInput{
		Login: login, DisplayName: "User " + login, Password: password,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	return u
}

// session starts a session for a user without checking a password.
func (e *env) session(t testing.TB, u *account.User) string {
	t.Helper()
	token, err := e.svc.StartSession(context.Background(), u.TenantID, u.ID, account.Client{})
	if err != nil {
		t.Fatalf("start session for %s: %v", u.Login, err)
	}
	return token
}

// principal is the principal of a user, without a session.
func (e *env) principal(t testing.TB, u *account.User) *account.Principal {
	t.Helper()
	p, err := e.svc.Principal(context.Background(), u.TenantID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Tests read and write the database behind the services' back only through
// exec, row, column, read and count: in transactions of the installation
// (db.Installation), which see every company's rows. On PostgreSQL the
// tests' connections run as the application role, and row-level security
// shows a transaction that declares no company no company row at all.

// exec runs a statement of a test's setup in a write transaction of the
// installation.
func (e *env) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	err := e.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// row is QueryRow in a read transaction of the installation: Scan answers
// what sql.Row's would, sql.ErrNoRows included.
func (e *env) row(query string, args ...any) installationRow {
	return installationRow{d: e.db, query: query, args: args}
}

type installationRow struct {
	d     *db.DB
	query string
	args  []any
}

func (r installationRow) Scan(dest ...any) error {
	ctx := context.Background()
	return r.d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, r.query, r.args...).Scan(dest...)
	})
}

// read runs fn in a read transaction of the installation.
func (e *env) read(t testing.TB, fn func(tx *sql.Tx) error) {
	t.Helper()
	if err := e.db.ReadTx(context.Background(), db.Installation, fn); err != nil {
		t.Fatal(err)
	}
}

// column returns the first column of every row a query answers, as text.
func (e *env) column(t testing.TB, query string, args ...any) []string {
	t.Helper()
	var out []string
	e.read(t, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(context.Background(), query, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out
}

// count returns the single integer a query answers.
func (e *env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.row(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// sessionsOf counts the sessions of a user.
func (e *env) sessionsOf(t testing.TB, u *account.User) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM sessions WHERE tenant_id = $1 AND user_id = $2`, u.TenantID, u.ID)
}

// sessionExists reports whether the session of a token is stored.
func (e *env) sessionExists(t testing.TB, token string) bool {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1`, id.HashToken(token)) == 1
}

// passwordHash returns a user's stored password hash.
func (e *env) passwordHash(t testing.TB, u *account.User) string {
	t.Helper()
	var h string
	err := e.row(`SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2`, u.TenantID, u.ID).Scan(&h)
	if err != nil {
		t.Fatalf("read password hash of %s: %v", u.Login, err)
	}
	return h
}
