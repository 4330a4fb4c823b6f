// Package credit keeps a company's credit balance and its append-only
// ledger: grants (credits bought or corrected), spendings (paid actions
// such as publishing a position beyond the free allowance) and refunds.
// A paid action spends inside its own transaction, so the action and the
// debit stand or fall together; the balance never goes below zero.
//
// Credits are bought, not minted: only the operator adds them
// (GrantAsOperator, `kandidat credits add`) or refunds a spending
// (RefundAsOperator, `kandidat credits refund`). The company's credit
// administration reads the ledger and sets how many credits each user may
// spend in a month (SetLimit); it never adds to the balance.
package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Kinds of ledger entries.
const (
	Grant  = "grant"
	Spend  = "spend"
	Refund = "refund"
)

// GrantReasons are the reasons of grants.
var GrantReasons = []string{"purchase", "correction"}

// ReasonPublication is the reason of a spending on publishing a position
// beyond the free allowance; later paid actions add theirs.
const ReasonPublication = "publication"

// MaxGrant bounds one grant, against typing errors.
const MaxGrant = 1_000_000

// Errors of this package.
var (
	// ErrInsufficient: the balance does not cover a paid action.
	ErrInsufficient = fault.New(fault.ErrInsufficient, "not enough credits", "error.credits_insufficient")
	// ErrLimitReached: the action would take the user beyond the credits
	// they may spend this month (SetLimit).
	ErrLimitReached = fault.New(fault.ErrInsufficient, "monthly spending limit reached", "error.credits_limit_reached")
	// ErrForbidden: the actor may not administer or spend credits.
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "error.credits_not_allowed")
	// ErrNotFound: no such ledger entry in the company.
	ErrNotFound = fault.New(fault.ErrNotFound, "ledger entry not found", "")
	// ErrNotRefundable: the entry is not a spending, or was refunded already.
	ErrNotRefundable = fault.New(fault.ErrConflict, "entry cannot be refunded", "")
	// ErrBadCursor: a page cursor this package did not make.
	ErrBadCursor = errors.New("bad page cursor")
)

// Entry is one line of the ledger.
type Entry struct {
	ID           string
	Kind         string
	Amount       int64
	BalanceAfter int64
	Reason       string
	Note         string
	ActorKind    string
	ActorID      string
	ObjectKind   string
	ObjectID     string
	RefundOf     string
	Refunded     bool
	CreatedAt    time.Time
	// Position is the position the entry is about (ObjectKind "position"),
	// nil when it is about none or the position is no longer on record.
	Position *PositionRef
}

// PositionRef names the position a ledger entry is about: its title, and
// whether the reader of the ledger may open it (the positions policy
// decides, so a credit administrator who does not see a position reads
// its title but gets no link to it).
type PositionRef struct {
	ID, Title string
	Visible   bool
}

// Service keeps the ledger.
type Service struct {
	db    *db.DB
	audit *audit.Log
	now   func() time.Time
}

// NewService returns the credit service.
func NewService(d *db.DB, log *audit.Log) *Service {
	return &Service{db: d, audit: log, now: db.Now}
}

// SetClock replaces the time source (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Balance is the company's current balance.
func (s *Service) Balance(ctx context.Context, tenantID string) (int64, error) {
	var b int64
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT balance FROM credit_accounts WHERE tenant_id = $1`, tenantID).Scan(&b)
	})

	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read balance: %w", err)
	}
	return b, nil
}

// Ledger returns the newest entries of the company's ledger, at most limit,
// to a holder of ManageCredits.
func (s *Service) Ledger(ctx context.Context, a access.Actor, limit int) ([]Entry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	out, _, err := s.LedgerPage(ctx, a, "", limit)
	return out, err
}

// LedgerPage returns at most limit entries of the company's ledger, newest
// first (by time, then id), starting after the cursor after ("" for the
// newest), and the cursor of the next page ("" on the last page), to a
// holder of ManageCredits. Entries appended meanwhile are newer than the
// cursor, so a walk neither repeats nor skips one. A cursor this package
// did not make is ErrBadCursor.
func (s *Service) LedgerPage(ctx context.Context, a access.Actor, after string, limit int) ([]Entry, string, error) {
	if !a.Can(access.ManageCredits) {
		return nil, "", ErrForbidden
	}
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	// The page's positions come in the same statement (a join on the
	// positions' key), not one read per entry: their title, owner and
	// whether the reader is a member, for the policy to decide on.
	q := `SELECT l.id, l.kind, l.amount, l.balance_after, l.reason, l.note, l.actor_kind, l.actor_id,
		l.object_kind, l.object_id, COALESCE(l.refund_of, ''), EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = l.tenant_id AND r.refund_of = l.id), l.created_at,
		p.id IS NOT NULL, COALESCE(p.title, ''), COALESCE(p.owner_id, ''),
		EXISTS (SELECT 1 FROM position_members m WHERE m.tenant_id = l.tenant_id AND m.position_id = p.id AND m.user_id = $2)
		FROM credit_ledger l LEFT JOIN positions p ON l.object_kind = 'position' AND p.tenant_id = l.tenant_id AND p.id = l.object_id
		WHERE l.tenant_id = $1`
	args := []any{a.TenantID, a.UserID}
	if after != "" {
		at, id, err := parseCursor(after)
		if err != nil {
			return nil, "", err
		}
		q += ` AND (l.created_at, l.id) < ($3, $4)`
		args = append(args, at, id)
	}
	q += ` ORDER BY l.created_at DESC, l.id DESC LIMIT ` + strconv.Itoa(limit+1)
	var out []Entry
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e Entry
			var found, member bool
			var pos PositionRef
			var owner string
			if err := rows.Scan(&e.ID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.Reason, &e.Note, &e.ActorKind, &e.ActorID,
				&e.ObjectKind, &e.ObjectID, &e.RefundOf, &e.Refunded, &e.CreatedAt, &found, &pos.Title, &owner, &member); err != nil {
				return err
			}
			e.CreatedAt = e.CreatedAt.UTC()
			if found {
				pos.ID = e.ObjectID
				o := access.Position{TenantID: a.TenantID, OwnerID: owner}
				if member {
					o.Members = []string{a.UserID}
				}
				pos.Visible = access.DecidePosition(a, access.ViewPositions, o) == access.Allow
				e.Position = &pos
			}
			out = append(out, e)
		}
		return rows.Err()
	})

	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = cursor(out[limit-1])
	}
	return out, next, nil
}

// CountLedger returns how many entries the company's ledger holds, to a
// holder of ManageCredits.
func (s *Service) CountLedger(ctx context.Context, a access.Actor) (int, error) {
	if !a.Can(access.ManageCredits) {
		return 0, ErrForbidden
	}
	var n int
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM credit_ledger WHERE tenant_id = $1`, a.TenantID).Scan(&n)
	})

	if err != nil {
		return 0, fmt.Errorf("count ledger: %w", err)
	}
	return n, nil
}

// cursor is the position of e in the ledger's order: its time in
// microseconds and its id.
func cursor(e Entry) string { return db.TimeCursor(e.CreatedAt, e.ID) }

// parseCursor reads a cursor that cursor made, or refuses it.
func parseCursor(c string) (time.Time, string, error) {
	at, id, ok := db.ParseTimeCursor(c)
	if !ok {
		return time.Time{}, "", ErrBadCursor
	}
	return at, id, nil
}

// GrantInput is a grant of credits.
type GrantInput struct {
	Amount int64
	Reason string
	Note   string
}

func (in *GrantInput) validate() error {
	f := map[string]string{}
	in.Note = strings.TrimSpace(in.Note)
	if in.Amount <= 0 || in.Amount > MaxGrant {
		f["amount"] = "error.credit_amount"
	}
	if !slices.Contains(GrantReasons, in.Reason) {
		f["reason"] = "error.credit_reason"
	}
	if !validNote(in.Note) {
		f["note"] = "error.credit_note"
	}
	if len(f) > 0 {
		return &fault.Invalid{Fields: f}
	}
	return nil
}

// validNote reports whether a ledger note (already trimmed) is short text
// on one line.
func validNote(note string) bool {
	return utf8.ValidString(note) && utf8.RuneCountInString(note) <= 200 && !strings.ContainsFunc(note, func(r rune) bool { return r < 0x20 })
}

// GrantAsOperator adds credits on behalf of the instance operator (the
// command line, `kandidat credits add`): the only way credits enter a
// company's balance.
func (s *Service) GrantAsOperator(ctx context.Context, tenantID string, in GrantInput) (*Entry, error) {
	return s.grant(ctx, tenantID, audit.Operator, in)
}

func (s *Service) grant(ctx context.Context, tenantID string, by audit.Actor, in GrantInput) (*Entry, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var e *Entry
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		if err := s.open(ctx, tx, tenantID); err != nil {
			return err
		}
		var balance int64
		if err := tx.QueryRowContext(ctx, `UPDATE credit_accounts SET balance = balance + $2, updated_at = $3 WHERE tenant_id = $1 RETURNING balance`,
			tenantID, in.Amount, s.now()).Scan(&balance); err != nil {
			return fmt.Errorf("credit balance: %w", err)
		}
		var err error
		e, err = s.append(ctx, tx, tenantID, by, Entry{Kind: Grant, Amount: in.Amount, BalanceAfter: balance, Reason: in.Reason, Note: in.Note}, audit.CreditsGranted)
		return err
	})

	return e, err
}

// open makes sure the company has an account row; the row is also what
// serialises concurrent spendings of one company (Lock).
func (s *Service) open(ctx context.Context, tx *sql.Tx, tenantID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO credit_accounts (tenant_id, balance, updated_at) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING`,
		tenantID, s.now())
	if err != nil {
		if errors.Is(db.MapError(err), db.ErrForeignKeyViolation) {
			return tenant.ErrNotFound
		}
		return fmt.Errorf("open credit account: %w", err)
	}
	return nil
}

// Lock takes the company's credit account for the rest of tx, so that a
// decision that depends on earlier paid actions (the free allowance) is
// not raced by a concurrent one. On SQLite the single writer already
// serialises transactions.
func (s *Service) Lock(ctx context.Context, tx *sql.Tx, tenantID string) error {
	if err := s.open(ctx, tx, tenantID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE credit_accounts SET updated_at = updated_at WHERE tenant_id = $1`, tenantID); err != nil {
		return fmt.Errorf("lock credit account: %w", err)
	}
	return nil
}

// SpendTx debits amount for a paid action inside the caller's transaction:
// reason names the action and object the thing paid for. The actor must
// hold SpendCredits; a balance that does not cover it is ErrInsufficient,
// an amount beyond what the actor may still spend this month is
// ErrLimitReached, and the caller's transaction should roll back.
//
// The debit locks the company's account row first, so the spendings of one
// company are checked against the balance and the limits one at a time.
func (s *Service) SpendTx(ctx context.Context, tx *sql.Tx, a access.Actor, amount int64, reason string, object audit.Ref) (*Entry, error) {
	if !a.Can(access.SpendCredits) {
		return nil, ErrForbidden
	}
	if amount <= 0 {
		return nil, fmt.Errorf("spend %d credits: amount must be positive", amount)
	}
	if err := s.open(ctx, tx, a.TenantID); err != nil {
		return nil, err
	}
	var balance int64
	err := tx.QueryRowContext(ctx, `UPDATE credit_accounts SET balance = balance - $2, updated_at = $3 WHERE tenant_id = $1 AND balance >= $2 RETURNING balance`,
		a.TenantID, amount, s.now()).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInsufficient
	}
	if err != nil {
		return nil, fmt.Errorf("debit credits: %w", err)
	}
	if left, limited, err := s.limitLeft(ctx, tx, a.TenantID, a.UserID); err != nil {
		return nil, err
	} else if limited && amount > left {
		return nil, ErrLimitReached
	}
	return s.append(ctx, tx, a.TenantID, audit.ActorOf(a), Entry{Kind: Spend, Amount: amount, BalanceAfter: balance, Reason: reason,
		ObjectKind: object.Kind, ObjectID: object.ID}, audit.CreditsSpent)
}

// RefundAsOperator returns the credits of a spending to the company, once,
// on behalf of the instance operator (the command line, `kandidat credits
// refund`). A refund adds to the balance, so like a grant it is the
// operator's act only: were it a company's, publishing and then refunding
// would make every publication free. An entry the company does not have is
// ErrNotFound; one that is not a spending, or was refunded already, is
// ErrNotRefundable. A bad note is a field error (fault.Invalid).
func (s *Service) RefundAsOperator(ctx context.Context, tenantID, entryID, note string) (*Entry, error) {
	note = strings.TrimSpace(note)
	if !validNote(note) {
		return nil, fault.Field("note", "error.credit_note")
	}
	if !id.Valid(entryID) {
		return nil, ErrNotFound
	}
	var e *Entry
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {

		if err := s.Lock(ctx, tx, tenantID); err != nil {
			return err
		}
		var kind, objectKind, objectID string
		var amount int64
		var refunded bool
		err := tx.QueryRowContext(ctx, `SELECT kind, amount, object_kind, object_id,
			EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = l.tenant_id AND r.refund_of = l.id)
			FROM credit_ledger l WHERE l.tenant_id = $1 AND l.id = $2`, tenantID, entryID).Scan(&kind, &amount, &objectKind, &objectID, &refunded)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read ledger entry: %w", err)
		}
		if kind != Spend || refunded {
			return ErrNotRefundable
		}
		var balance int64
		if err := tx.QueryRowContext(ctx, `UPDATE credit_accounts SET balance = balance + $2, updated_at = $3 WHERE tenant_id = $1 RETURNING balance`,
			tenantID, amount, s.now()).Scan(&balance); err != nil {
			return fmt.Errorf("credit balance: %w", err)
		}
		e, err = s.append(ctx, tx, tenantID, audit.Operator, Entry{Kind: Refund, Amount: amount, BalanceAfter: balance, Reason: "refund",
			Note: note, ObjectKind: objectKind, ObjectID: objectID, RefundOf: entryID}, audit.CreditsRefunded)
		if errors.Is(db.MapError(err), db.ErrUniqueViolation) {
			return ErrNotRefundable
		}
		return err
	})

	if err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Service) append(ctx context.Context, tx *sql.Tx, tenantID string, by audit.Actor, e Entry, action audit.Action) (*Entry, error) {
	e.ID = id.New()
	e.CreatedAt = db.Time(s.now()) // as stored: UTC, microseconds, so a cursor names it exactly
	e.ActorKind, e.ActorID = string(by.Kind), by.ID
	var refundOf any
	if e.RefundOf != "" {
		refundOf = e.RefundOf
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO credit_ledger (tenant_id, id, kind, amount, balance_after, reason, note, actor_kind, actor_id,
		object_kind, object_id, refund_of, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		tenantID, e.ID, e.Kind, e.Amount, e.BalanceAfter, e.Reason, e.Note, e.ActorKind, e.ActorID, e.ObjectKind, e.ObjectID, refundOf, e.CreatedAt); err != nil {
		return nil, fmt.Errorf("append to ledger: %w", err)
	}
	objects := []audit.Ref{{Kind: "credit_entry", ID: e.ID}}
	if e.ObjectID != "" {
		objects = append(objects, audit.Ref{Kind: e.ObjectKind, ID: e.ObjectID})
	}
	reason := e.Reason
	if err := s.audit.Record(ctx, tx, audit.Event{TenantID: tenantID, Action: action, Actor: by, Objects: objects,
		Details: map[string]string{"amount": fmt.Sprint(e.Amount), "balance": fmt.Sprint(e.BalanceAfter), "reason": reason}}); err != nil {
		return nil, err
	}
	return &e, nil
}
