package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db"
)

func TestCheckPlans(t *testing.T) {
	d := Open(t)
	ctx := context.Background()
	ExecAsOwner(t, d, `CREATE TABLE plan_items (tenant_id TEXT NOT NULL, id TEXT NOT NULL, stage TEXT NOT NULL, note TEXT NOT NULL,
		created_at TEXT NOT NULL, PRIMARY KEY (tenant_id, id))`)
	ExecAsOwner(t, d, `CREATE INDEX plan_items_time ON plan_items (tenant_id, created_at)`)
	ExecAsOwner(t, d, `CREATE TABLE plan_small (tenant_id TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL)`)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 3 {
		for i := range 300 {
			if _, err := d.Write.ExecContext(ctx, `INSERT INTO plan_items (tenant_id, id, stage, note, created_at) VALUES ($1, $2, $3, $4, $5)`,
				fmt.Sprintf("t%d", c), fmt.Sprintf("i%04d", i), []string{"new", "interview", "offer"}[i%3], fmt.Sprintf("note %d", i),
				start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO plan_small (tenant_id, k, v) VALUES ('t0', 'a', 'b')`); err != nil {
		t.Fatal(err)
	}
	ExecAsOwner(t, d, `ANALYZE plan_items`)
	ExecAsOwner(t, d, `ANALYZE plan_small`)
	big := []string{"plan_items"}
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string // part of the one problem expected; "" for none
	}{
		{"lookup by key", `SELECT stage FROM plan_items WHERE tenant_id = $1 AND id = $2`, []any{"t1", "i0007"}, ""},
		{"lookup by key, aliased", `SELECT i.stage FROM plan_items AS i WHERE i.tenant_id = $1 AND i.id = $2`, []any{"t1", "i0007"}, ""},
		{"keyset page", `SELECT id FROM plan_items WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT 20`,
			[]any{"t1", start.Add(time.Hour).Format(time.RFC3339)}, ""},
		{"first keyset page", `SELECT id, note FROM plan_items WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 20`, []any{"t1"}, ""},
		{"small table scan", `SELECT v FROM plan_small WHERE k = $1`, []any{"a"}, ""},
		{"unindexed filter", `SELECT id FROM plan_items WHERE note = $1`, []any{"note 7"}, "plan_items: full scan"},
		{"unindexed filter, aliased", `SELECT x.id FROM plan_items x WHERE x.note = $1`, []any{"note 7"}, "plan_items: full scan"},
		{"company-wide group by", `SELECT stage, count(*) FROM plan_items WHERE tenant_id = $1 GROUP BY stage`, []any{"t1"},
			"plan_items: reads"},
		{"company-wide text filter", `SELECT id FROM plan_items WHERE tenant_id = $1 AND note LIKE $2`, []any{"t1", "%7%"},
			"plan_items: reads all of one company's rows"},
		{"page sorted on an unindexed column", `SELECT id FROM plan_items WHERE tenant_id = $1 ORDER BY note LIMIT 20`, []any{"t1"},
			"plan_items: reads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckPlans(ctx, d, []Statement{{Query: tc.query, Args: tc.args}}, big)
			for _, p := range got {
				t.Log(p)
			}
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("problems for a good plan: %q", got)
			case tc.want != "" && len(got) != 1:
				t.Errorf("got %d problems %q, want one with %q", len(got), got, tc.want)
			case tc.want != "" && !strings.Contains(got[0], tc.want):
				t.Errorf("problem %q, want %q", got[0], tc.want)
			}
			if tc.want != "" && len(got) == 1 && !strings.Contains(got[0], Head(tc.query)) {
				t.Errorf("problem %q does not quote the statement", got[0])
			}
		})
	}
	// Writes, transaction control and the company's declaration are not explained.
	got := CheckPlans(ctx, d, []Statement{
		{Query: `SELECT set_config('kandidat.tenant_id', $1, true)`, Args: []any{"t1"}},
		{Query: `UPDATE plan_items SET note = $1 WHERE note = $2`, Args: []any{"x", "y"}},
		{Query: `DELETE FROM plan_items WHERE note = $1`, Args: []any{"y"}},
		{Query: `INSERT INTO plan_items (tenant_id, id, stage, note, created_at) SELECT tenant_id, id || 'x', stage, note, created_at FROM plan_items WHERE note = $1`, Args: []any{"y"}},
		{Query: `BEGIN`},
		{Query: `PRAGMA optimize`},
	}, big)
	if len(got) != 0 {
		t.Errorf("problems for statements that are not explained: %q", got)
	}
	// A statement the database cannot explain is a problem, not a pass.
	if got := CheckPlans(ctx, d, []Statement{{Query: `SELECT nope FROM plan_items`}}, big); len(got) != 1 || !strings.HasPrefix(got[0], "no plan for") {
		t.Errorf("a broken statement: %q", got)
	}
}

// TestRecorder: the traced database reports direct and prepared
// statements, with their arguments, on both pools.
func TestRecorder(t *testing.T) {
	var rec Recorder
	d := OpenTraced(t, rec.Trace)
	ctx := context.Background()
	rec.Reset()
	var n int
	if err := d.Read.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE id = $1`, "direct").Scan(&n); err != nil {
		t.Fatal(err)
	}
	st, err := d.Read.PrepareContext(ctx, `SELECT count(*) FROM tenants WHERE slug = $1`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.QueryRowContext(ctx, "prepared").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, "written"); err != nil {
		t.Fatal(err)
	}
	if err := d.ReadTx(ctx, "company", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE id = $1`, "in a transaction").Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	got := rec.Take()
	want := []Statement{
		{`SELECT count(*) FROM tenants WHERE id = $1`, []any{"direct"}},
		{`SELECT count(*) FROM tenants WHERE slug = $1`, []any{"prepared"}},
		{`DELETE FROM tenants WHERE id = $1`, []any{"written"}},
	}
	if d.Engine == db.Postgres {
		want = append(want, Statement{`SELECT set_config('kandidat.tenant_id', $1, true), set_config('statement_timeout', $2, true)`, []any{"company", "30000"}})
	}
	want = append(want, Statement{`SELECT count(*) FROM tenants WHERE id = $1`, []any{"in a transaction"}})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recorded\n%v\nwant\n%v", got, want)
	}
	if len(rec.Take()) != 0 {
		t.Error("Take did not empty the recorder")
	}
	// The checker's own statements are not recorded.
	if p := CheckPlans(ctx, d, want, []string{"tenants"}); len(p) != 0 {
		t.Errorf("lookups by key: %q", p)
	}
	for _, s := range rec.Take() {
		if strings.HasPrefix(s.Query, "EXPLAIN") {
			t.Errorf("the checker's own statement was recorded: %v", s)
		}
	}
	// Plans shows what CheckPlans judged.
	if p := Plans(ctx, d, want[:1]); len(p) != 1 || !strings.Contains(p[0], "tenants") || !strings.HasPrefix(p[0], want[0].Query+"\n") {
		t.Errorf("Plans: %q", p)
	}
}

func TestOnlyTenant(t *testing.T) {
	for cond, want := range map[string]bool{
		`(tenant_id = 't1'::text)`:                              true,
		`(a.tenant_id = $1)`:                                    true,
		`((tenant_id = 't1'::text) AND (id = 'x'::text))`:       false,
		`((tenant_id = 't1'::text) AND (created_at < $2))`:      false,
		`(id = 'AND (tenant_id = 1)'::text)`:                    false,
		`((tenant_id = 'x'::text) AND (tenant_id = 'y'::text))`: true,
		``: false,
	} {
		if got := onlyTenant(cond); got != want {
			t.Errorf("onlyTenant(%q) = %v, want %v", cond, got, want)
		}
	}
}
