package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
)

// Every change of what a user may do (a role, optional rights, a status,
// an invitation with a role, a custom role's permissions) goes through
// this file:
//
//   - inRightsTx runs it in one write transaction that holds the company's
//     rights lock, so two such changes of one company never interleave;
//   - authorize decides it with access.MayChange, on the actor's rights as
//     they are inside that transaction;
//   - keepAnAdministrator refuses, in the same transaction, a change that
//     would leave the company without an active administrator.

// rightsLockClass is the first key of the company's rights lock on
// PostgreSQL. The two-key form of advisory locks is a key space of its own,
// apart from the one-key locks of the audit chains.
const rightsLockClass = 0x4b52 // "KR"

// inRightsTx runs fn in one write transaction of the company that first
// takes the company's rights lock. On SQLite the single writer already
// runs write transactions one at a time. On PostgreSQL, whose transactions
// see each other's writes only once committed, two administrators demoting
// each other would otherwise each still count the other as active, and
// both succeed; the transaction-scoped advisory lock makes the second wait
// for the first and then read what it wrote.
func (s *Service) inRightsTx(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		if s.db.Engine == db.Postgres {
			h := fnv.New32a()
			h.Write([]byte(tenantID))
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, rightsLockClass, int32(h.Sum32())); err != nil {
				return fmt.Errorf("lock the company's rights: %w", err)
			}
		}
		return fn(ctx, tx)
	})
}

// change is a change of what users may do, as access.MayChange decides it.
type change struct {
	// gate is the right the path needs: ManageUsers or ManageRoles.
	gate access.Permission
	// old and new are the permission sets before and after.
	old, new access.Set
	// user is the user whose rights change, or role the custom role whose
	// holders' rights change; the change is the actor's own when the user
	// is the actor or the actor holds the role.
	user, role string
}

// authorize is the one check of a change of what users may do. It reads
// the actor's role and rights again inside tx rather than trusting those
// of the request's start: a right taken from the actor a moment ago no
// longer counts, and a disabled actor can do nothing.
func authorize(ctx context.Context, tx *sql.Tx, actor access.Actor, c change) error {
	role, set, err := actorNow(ctx, tx, actor)
	if err != nil {
		return err
	}
	self := (c.user != "" && c.user == actor.UserID) || (c.role != "" && c.role == role)
	if !access.MayChange(set, c.gate, c.old, c.new, self) {
		return ErrForbidden
	}
	return nil
}

// actorNow returns the actor's role and permission set as tx sees them; an
// actor who is no longer an active user of the company may do nothing. The
// rule of every change of rights is about colleagues, so an actor who is no
// user (the operator, a job) is refused here too: the operator has its own
// commands (SetStatus, CreateUser).
func actorNow(ctx context.Context, tx *sql.Tx, actor access.Actor) (string, access.Set, error) {
	var role, status, extra, custom string
	if actor.Kind != access.KindUser {
		return "", 0, ErrForbidden
	}
	err := tx.QueryRowContext(ctx, `SELECT u.role, u.status, u.extra_permissions, COALESCE(r.permissions, '')
		FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
		WHERE u.tenant_id = $1 AND u.id = $2`, actor.TenantID, actor.UserID).Scan(&role, &status, &extra, &custom)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, ErrForbidden
	}
	if err != nil {
		return "", 0, fmt.Errorf("read the actor's rights: %w", err)
	}
	if Status(status) != Active {
		return "", 0, ErrForbidden
	}
	return role, access.Resolve(role, custom, extra), nil
}

// keepAnAdministrator fails with ErrLastAdministrator when the company has
// no active administrator left. Callers run it after the write that may
// have taken one away, in the same transaction and under the rights lock,
// so it counts exactly the state the change leaves behind.
func keepAnAdministrator(ctx context.Context, tx *sql.Tx, tenantID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND role = $2 AND status = 'active'`,
		tenantID, RoleAdministrator).Scan(&n); err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if n == 0 {
		return ErrLastAdministrator
	}
	return nil
}

// candidateAccess adds to the details of an audit record that the change
// opened candidate data to someone who did not have it; the record then
// raises an alert to the company's administrators.
func candidateAccess(details map[string]string, old, new access.Set) map[string]string {
	if access.GivesCandidateAccess(old, new) {
		details["candidate_access"] = "true"
	}
	return details
}
