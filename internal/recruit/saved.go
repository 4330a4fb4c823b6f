package recruit

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/search"
)

// Saved searches are a user's own tool: each user keeps up to
// MaxSavedSearches queries of the candidate list under names of their
// choosing, sees only their own, and loses them with their account (the
// table's foreign key). They hold no candidate's data, so they leave no
// audit record.

// Limits of saved searches.
const (
	MaxSavedSearches    = 50
	MaxSavedSearchRunes = 80
)

// SavedSearch is a query of the candidate list a user keeps under a name.
type SavedSearch struct {
	ID        string
	Name      string
	Query     string
	CreatedAt time.Time
}

// savedLockClass is the first key of a user's saved-searches lock on
// PostgreSQL (the two-key form of advisory locks, a key space of its own).
const savedLockClass = 0x4b53 // "KS"

// mayKeepSearches: a person (not the operator or a job) who may read the
// candidate list.
func mayKeepSearches(a access.Actor) bool {
	return a.UserID != "" && (a.Can(access.ViewApplications) || a.Can(access.ViewSharedPool))
}

// cleanSearchName checks a saved search's name: one line of at most
// MaxSavedSearchRunes characters.
func cleanSearchName(name string) (string, string) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", "saved.error.name_required"
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		return "", "saved.error.name_invalid"
	case utf8.RuneCountInString(name) > MaxSavedSearchRunes:
		return "", "saved.error.name_too_long"
	}
	return name, ""
}

const upsertSavedSearch = `INSERT INTO saved_searches (tenant_id, id, user_id, name, query, created_at)
	SELECT $1, $2, $3, $4, $5, $6
	WHERE (SELECT count(*) FROM saved_searches WHERE tenant_id = $1 AND user_id = $3) < $7
		OR EXISTS (SELECT 1 FROM saved_searches WHERE tenant_id = $1 AND user_id = $3 AND name = $4)
	ON CONFLICT (tenant_id, user_id, name) DO UPDATE SET query = excluded.query`

// SaveSearch keeps query under name for the actor; a search of the same
// name has its query replaced. The query must be one the list reads. A
// user keeps at most MaxSavedSearches: the count and the insert are one
// statement, run under a lock of the user's searches on PostgreSQL (on
// SQLite the one writer runs write transactions one at a time), so racing
// saves never pass the limit.
func (s *Service) SaveSearch(ctx context.Context, a access.Actor, name, query string) (*SavedSearch, error) {
	if !mayKeepSearches(a) {
		return nil, ErrForbidden
	}
	name, key := cleanSearchName(name)
	if key != "" {
		return nil, fault.Field("saved_name", key)
	}
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, fault.Field("saved_query", "saved.error.query_required")
	}
	if _, err := search.Parse(query); err != nil {
		return nil, fault.Field("saved_query", "saved.error.query_invalid")
	}
	out := &SavedSearch{Name: name, Query: query}
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		if s.db.Engine == db.Postgres {
			h := fnv.New32a()
			h.Write([]byte(a.TenantID + "\x00" + a.UserID))
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, savedLockClass, int32(h.Sum32())); err != nil {
				return fmt.Errorf("lock saved searches: %w", err)
			}
		}
		r, err := tx.ExecContext(ctx, upsertSavedSearch, a.TenantID, id.New(), a.UserID, name, query, s.now(), MaxSavedSearches)
		if err != nil {
			return fmt.Errorf("save search: %w", err)
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return fault.Field("saved_name", "saved.error.limit")
		}
		return tx.QueryRowContext(ctx, `SELECT id, created_at FROM saved_searches WHERE tenant_id = $1 AND user_id = $2 AND name = $3`,
			a.TenantID, a.UserID, name).Scan(&out.ID, &out.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SavedSearches lists the actor's own saved searches by name.
func (s *Service) SavedSearches(ctx context.Context, a access.Actor) ([]SavedSearch, error) {
	if !mayKeepSearches(a) {
		return nil, nil
	}
	var out []SavedSearch
	err := s.read(ctx, a, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT id, name, query, created_at FROM saved_searches WHERE tenant_id = $1 AND user_id = $2 ORDER BY name`,
			a.TenantID, a.UserID)
		if err != nil {
			return fmt.Errorf("list saved searches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var ss SavedSearch
			if err := rows.Scan(&ss.ID, &ss.Name, &ss.Query, &ss.CreatedAt); err != nil {
				return err
			}
			out = append(out, ss)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteSavedSearch removes one of the actor's saved searches; another
// user's (or none) is ErrNotFound.
func (s *Service) DeleteSavedSearch(ctx context.Context, a access.Actor, searchID string) error {
	if !mayKeepSearches(a) {
		return ErrForbidden
	}
	if !id.Valid(searchID) {
		return ErrNotFound
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM saved_searches WHERE tenant_id = $1 AND id = $2 AND user_id = $3`, a.TenantID, searchID, a.UserID)
		if err != nil {
			return fmt.Errorf("delete saved search: %w", err)
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
