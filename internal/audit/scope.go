package audit

import (
	"context"
	"database/sql"

	"github.com/kandidat/kandidat/internal/db"
)

// scopeOf is the transaction scope of a company's records, or of the
// installation's own (tenant_id ”): the trail is the one place where the
// installation keeps records beside the companies'.
func scopeOf(tenantID string) string {
	if tenantID == "" {
		return db.Installation
	}
	return tenantID
}

// each runs a query in a read transaction declared for scope and calls fn
// for every row.
func (l *Log) each(ctx context.Context, scope, q string, args []any, fn func(rows *sql.Rows) error) error {
	return l.db.ReadTx(ctx, scope, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
