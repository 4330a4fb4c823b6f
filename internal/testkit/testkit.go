// Package testkit wires the program's services over a fresh test database
// the way app.Open does (keyring, audit log, companies, accounts, credits,
// recruitment with its file store and email queue), so that the tests of
// every package share one service graph instead of each building its own,
// and a new dependency of a service is added here once.
//
// Only tests import it. It imports the domains, so a domain's own tests use
// it from their external test package (package recruit_test, say).
package testkit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// FastArgon2 makes password hashing cheap; the default parameters are
// tested by the account package on their own.
var FastArgon2 = account.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Password meets every password profile; Actor gives it to the users it
// creates.
const Password = "correct horse 1"

// Options change the graph where a test needs it.
type Options struct {
	// DB is a database the test opened (a traced one, say); nil opens a
	// fresh one on the engine under test with dbtest.Open.
	DB *db.DB
	// Account tunes the account service. Zero Argon2 parameters mean
	// FastArgon2, and a nil Cipher the kit's keyring; the rest is used as
	// given (a nil Queue sends no email).
	Account account.Options
}

// Kit is the service graph of one test over its own database.
type Kit struct {
	DB       *db.DB
	Master   *keys.MasterKey
	Keys     *keys.Keyring
	Audit    *audit.Log
	Tenants  *tenant.Service
	Accounts *account.Service
	Credits  *credit.Service
	Recruit  *recruit.Service
	// Privacy is the GDPR engine; its erasure ledger is Ledger.
	Privacy *privacy.Service
	// Whistle is the whistleblowing channel, its case keys following the accounts' passwords.
	Whistle *whistle.Service
	Ledger  string
	// Queue is the email queue the recruitment service writes to.
	Queue *notify.Queue
	// Blobs is the encrypted file store of candidates' documents, in a
	// temporary directory.
	Blobs *blob.Store
	// FilesDir is where Blobs keeps the files.
	FilesDir string
	I18n     *i18n.Bundle
}

// New builds the graph for the test; everything it opens is closed or
// removed when the test ends.
func New(t testing.TB, o Options) *Kit {
	t.Helper()
	d := o.DB
	if d == nil {
		d = dbtest.Open(t)
	}
	master, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatalf("generate master key: %v", err)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatalf("load catalogues: %v", err)
	}
	k := &Kit{DB: d, Master: master, Keys: keys.New(d, master), Audit: audit.NewLog(d, nil, audit.DefaultRules), Queue: notify.NewQueue(d), I18n: bundle}
	k.Tenants = tenant.NewService(d, k.Keys, k.Audit)
	k.Accounts = k.NewAccounts(o.Account)
	k.Credits = credit.NewService(d, k.Audit)
	k.FilesDir = filepath.Join(t.TempDir(), "files")
	files, err := blob.NewDir(k.FilesDir)
	if err != nil {
		t.Fatalf("file store: %v", err)
	}
	k.Blobs = blob.New(files, k.Keys, t.TempDir())
	k.Recruit = recruit.NewService(d, k.Audit, k.Credits, k.Tenants, recruit.Options{Career: recruit.CareerOptions{Blobs: k.Blobs, Queue: k.Queue, I18n: bundle}})
	k.Ledger = filepath.Join(t.TempDir(), "erasures.jsonl")
	k.Privacy = privacy.NewService(d, privacy.Options{Audit: k.Audit, Recruit: k.Recruit, Tenants: k.Tenants, Blobs: k.Blobs, Queue: k.Queue,
		I18n: bundle, BaseURL: "https://kandidat.test", Ledger: k.Ledger})
	k.Whistle = whistle.NewService(d, whistle.Options{Audit: k.Audit, Blobs: k.Blobs, Queue: k.Queue, I18n: bundle, Master: master,
		BaseURL: "https://kandidat.test"})
	k.Accounts.SetPasswordHook(k.Whistle.PasswordChanged)
	return k
}

// NewAccounts returns another account service over the kit's database and
// log, with the defaults of Options.Account filled in: for a test that
// needs a second service (another instance) or other options midway.
func (k *Kit) NewAccounts(o account.Options) *account.Service {
	if o.Argon2 == (account.Argon2Params{}) {
		o.Argon2 = FastArgon2
	}
	if o.Cipher == nil {
		o.Cipher = k.Keys
	}
	return account.NewService(k.DB, k.Audit, o)
}

// Company creates a company (its data key with it) as the operator.
func (k *Kit) Company(t testing.TB, in tenant.CreateInput) *tenant.Tenant {
	t.Helper()
	if in.DefaultLanguage == "" {
		in.DefaultLanguage = "en"
	}
	c, err := k.Tenants.Create(context.Background(), audit.Operator, in)
	if err != nil {
		t.Fatalf("create company %s: %v", in.Slug, err)
	}
	return c
}

// Actor creates an active user of a company with the login (also its
// display name), the role and Password, and returns the user as an actor
// with the rights the role gives.
func (k *Kit) Actor(t testing.TB, tenantID, login, role string) access.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := k.Accounts.CreateUser(ctx, access.Operator(tenantID), account.CreateUserInput{Login: login, DisplayName: login, Password: Password, Role: role})
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	p, err := k.Accounts.Principal(ctx, tenantID, u.ID)
	if err != nil {
		t.Fatalf("principal of %s: %v", login, err)
	}
	return p.Actor()
}
