// Package recruit holds positions, candidates, applications and their
// comments: the recruitment process. Every method takes the actor
// (access.Actor: a user, the operator or a job), asks the access policy
// before reading or writing, and writes its change and its audit record in one transaction. An object the
// actor may not know exists is ErrNotFound; one they see but may not act on
// is ErrForbidden; either denial is written to the security log.
package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Errors of this package.
var (
	// ErrNotFound: no such object in the actor's company, or one they may not know exists.
	ErrNotFound = fault.New(fault.ErrNotFound, "not found", "")
	// ErrForbidden: the actor sees the object but may not do this to it.
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "")
	// ErrState: the object is not in a state that allows the action (e.g. publishing a closed position twice).
	ErrState = fault.New(fault.ErrConflict, "not possible in this state", "")
)

// Service runs the recruitment process.
type Service struct {
	db      *db.DB
	audit   *audit.Log
	credits *credit.Service
	tenants *tenant.Service
	career  CareerOptions
	base    atomic.Value // string: the base URL (Options.BaseURL or SetBaseURL)
	now     func() time.Time
	totals  totalCache
}

// Options are what the service needs beyond the database and the services
// it builds on.
type Options struct {
	// Career is what the career page and the documents need. Its file store
	// and email queue are required.
	Career CareerOptions
	// BaseURL is the address every link in an email starts with (a
	// trailing slash is dropped); "" until serve derives one (SetBaseURL).
	BaseURL string
}

// NewService returns the recruitment service, whole: it panics when
// opts.Career lacks the file store or the email queue (or the built-in
// catalogues do not load), a mistake of the program's wiring that must not
// wait for the first application to show.
func NewService(d *db.DB, log *audit.Log, credits *credit.Service, tenants *tenant.Service, opts Options) *Service {
	if opts.Career.Blobs == nil || opts.Career.Queue == nil {
		panic("recruit: Options.Career needs the file store and the email queue")
	}
	if opts.Career.I18n == nil {
		b, err := i18n.Load()
		if err != nil {
			panic(fmt.Sprintf("recruit: load the catalogues: %v", err))
		}
		opts.Career.I18n = b
	}
	s := &Service{db: d, audit: log, credits: credits, tenants: tenants, career: opts.Career, now: db.Now}
	s.base.Store(strings.TrimSuffix(opts.BaseURL, "/"))
	return s
}

// SetClock replaces the time source (tests, which move it between calls).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// denied is a policy denial on its way out of a method; finish writes it
// to the security log once the method's transaction is over (on SQLite a
// second write transaction inside the first would wait for ever).
type denied struct {
	perm     access.Permission
	decision access.Decision
	object   audit.Ref
}

func (d *denied) Error() string { return "denied: " + d.perm.Name() + " on " + d.object.Kind }

// finish turns a denial into ErrNotFound or ErrForbidden after writing it
// to the security log; other errors pass.
func (s *Service) finish(ctx context.Context, a access.Actor, err error) error {
	var d *denied
	if !errors.As(err, &d) {
		return err
	}
	out := ErrNotFound
	if d.decision == access.Forbidden {
		out = ErrForbidden
	}
	if rerr := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.AccessDecided, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{d.object}, Details: map[string]string{"permission": d.perm.Name(), "decision": d.decision.String()}})
	}); rerr != nil {
		return rerr
	}
	return out
}

// cleanText trims a one-line text and checks it: valid UTF-8, no control
// characters, at most max characters, and not empty when required.
func cleanText(v string, max int, required bool) (string, bool) {
	v = strings.TrimSpace(norm.NFC.String(v))
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || (required && v == "") {
		return v, false
	}
	return v, !strings.ContainsFunc(v, unicode.IsControl)
}

type rowScanner interface{ Scan(...any) error }

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs fn in a read transaction declared to be the actor's company,
// so that PostgreSQL's row-level security applies to every read of
// candidate data as well.
func (s *Service) read(ctx context.Context, a access.Actor, fn func(q querier) error) error {
	return s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error { return fn(tx) })
}
