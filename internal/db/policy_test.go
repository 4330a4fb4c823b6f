package db_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// explainNode is the part of a PostgreSQL plan node (EXPLAIN (FORMAT JSON))
// the policy test looks at.
type explainNode struct {
	NodeType  string        `json:"Node Type"`
	Relation  string        `json:"Relation Name"`
	Index     string        `json:"Index Name"`
	Direction string        `json:"Scan Direction"`
	Rows      float64       `json:"Plan Rows"`
	Plans     []explainNode `json:"Plans"`
}

// TestPolicyLeavesPlannerItsEstimates (PostgreSQL): the row-level security
// policy must not hide from the planner how many rows a company has. A
// policy the planner cannot estimate makes it expect a handful of rows, and
// it then reads all of a company's rows and sorts them instead of walking
// the page's index and stopping after the page (keyset pagination). The
// statement is the audit trail's first page, as the application's role in
// a transaction that declares the company.
func TestPolicyLeavesPlannerItsEstimates(t *testing.T) {
	d := dbtest.Open(t)
	if d.Engine != db.Postgres {
		t.Skip("row-level security and its plans are PostgreSQL's; set " + dbtest.PostgresEnv)
	}
	ctx := context.Background()
	const companyRows = 20000
	// One big company, a small one, and installation-level records ('').
	dbtest.ExecAsOwner(t, d, `INSERT INTO audit_records (tenant_id, track, seq, id, occurred_at, actor_kind, actor_id, action, objects, request_id, details, prev_hash, hash)
		SELECT t.tenant_id, t.track, g, t.tenant_id || '-' || g, timestamptz '2026-01-01' + g * interval '1 minute', 'user', 'u', 'candidate.viewed', '', '', '', '', ''
		FROM (VALUES ('ta', 'history', 20000), ('tb', 'history', 2000), ('', 'security', 500)) AS t (tenant_id, track, n),
		generate_series(1, t.n) AS g`)
	dbtest.ExecAsOwner(t, d, `ANALYZE audit_records`)

	const page = `SELECT a.track, a.seq, a.id FROM audit_records a WHERE a.tenant_id = $1
		ORDER BY a.occurred_at DESC, a.track DESC, a.seq DESC LIMIT 51`
	inA := ctx
	var raw, text string
	var seen, all, declared int
	err := d.ReadTx(inA, "ta", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(inA, `EXPLAIN (FORMAT JSON) `+page, "ta").Scan(&raw); err != nil {
			return err
		}
		rows, err := tx.QueryContext(inA, `EXPLAIN `+page, "ta")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			text += "\n  " + line
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(inA, page, "ta")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			seen++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRowContext(inA, `SELECT count(*) FROM audit_records`).Scan(&declared)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_records`).Scan(&all)
	}); err != nil {
		t.Fatal(err)
	}
	// The declared company's rows only; every row in the installation's scope.
	if seen != 51 || declared != companyRows || all != companyRows+2000+500 {
		t.Fatalf("page of %d rows, %d rows visible to company A, %d to the installation; want 51, %d and %d", seen, declared, all, companyRows, companyRows+2500)
	}

	var doc []struct {
		Plan explainNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan %q: %v", raw, err)
	}
	root := doc[0].Plan
	var sorts []string
	var scan explainNode // the scan of audit_records
	var walk func(n explainNode)
	walk = func(n explainNode) {
		if strings.Contains(n.NodeType, "Sort") {
			sorts = append(sorts, n.NodeType)
		}
		if n.Relation == "audit_records" && scan.NodeType == "" {
			scan = n
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(root)
	if root.NodeType != "Limit" || len(root.Plans) != 1 || root.Plans[0].NodeType != scan.NodeType ||
		len(sorts) > 0 || !strings.HasPrefix(scan.NodeType, "Index") || scan.Direction != "Backward" {
		t.Fatalf("the first page of a company's %d audit records does not walk the index backward under a Limit (sorts: %v; estimated rows of the scan: %.0f):%s",
			companyRows, sorts, scan.Rows, text)
	}
	// The planner knows the company has about that many rows (the policy's
	// selectivity is estimated, not guessed).
	if scan.Rows < companyRows/2 {
		t.Errorf("the planner expects %.0f of company A's %d rows:%s", scan.Rows, companyRows, text)
	}
	t.Logf("plan:%s", text)
}
