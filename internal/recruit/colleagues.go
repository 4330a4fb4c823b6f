package recruit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/id"
)

// colleague returns an active user of the company as an actor with the
// permissions of their role, or false when there is none. Sharing a
// position, inviting to an interview and assigning a task go only to
// colleagues who could open what they are given: the same rule the pages
// apply to the lists they offer, decided here so that a posted id cannot
// go around it.
func colleague(ctx context.Context, q querier, tenantID, userID string) (access.Actor, bool, error) {
	if !id.Valid(userID) {
		return access.Actor{}, false, nil
	}
	var role, extra, custom string
	err := q.QueryRowContext(ctx, `SELECT u.role, u.extra_permissions, COALESCE(r.permissions, '')
		FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role
		WHERE u.tenant_id = $1 AND u.id = $2 AND u.status = 'active'`, tenantID, userID).Scan(&role, &extra, &custom)
	if errors.Is(err, sql.ErrNoRows) {
		return access.Actor{}, false, nil
	}
	if err != nil {
		return access.Actor{}, false, fmt.Errorf("read colleague: %w", err)
	}
	return access.Actor{TenantID: tenantID, UserID: userID, Perms: access.Resolve(role, custom, extra)}, true, nil
}

// colleagueSeesApplication reports whether userID is an active colleague
// who may open app (an interview participant, a task's assignee).
func colleagueSeesApplication(ctx context.Context, q querier, tenantID, userID string, app *Application) (bool, error) {
	c, ok, err := colleague(ctx, q, tenantID, userID)
	if err != nil || !ok {
		return false, err
	}
	return Decide(c, access.ViewApplications, app), nil
}
