package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStatementCache: statements run again from the cache give each run's
// own answer; the same text queried inside the loop over its first rows
// runs apart from them; many texts are evicted without harm; a statement
// whose context ended gives its error and leaves the cache usable.
func TestStatementCache(t *testing.T) {
	pool, err := openSQLitePool("file:"+filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1) // one connection: every query meets the cache
	ctx := context.Background()
	if _, err := pool.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := pool.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT v FROM t WHERE k >= $1 ORDER BY k`
	for i := range 10 {
		var v string
		if err := pool.QueryRowContext(ctx, q, i).Scan(&v); err != nil || v != fmt.Sprintf("v%d", i) {
			t.Fatalf("run %d: %q %v", i, v, err)
		}
	}
	// The same text inside the loop over its own rows.
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var outer, inner string
		if err := rows.Scan(&outer); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRowContext(ctx, q, 9).Scan(&inner); err != nil || inner != "v9" {
			t.Fatalf("inner query: %q %v", inner, err)
		}
		if outer != fmt.Sprintf("v%d", n) {
			t.Fatalf("outer row %d: %q", n, outer)
		}
		n++
	}
	if err := rows.Close(); err != nil || n != 10 {
		t.Fatalf("%d outer rows, %v", n, err)
	}
	tx.Rollback()
	// More texts than the cache holds.
	for i := range stmtCacheSize*2 + 5 {
		var k int
		if err := pool.QueryRowContext(ctx, fmt.Sprintf(`SELECT k + %d FROM t WHERE k = $1`, i), 3).Scan(&k); err != nil || k != 3+i {
			t.Fatalf("text %d: %d %v", i, k, err)
		}
	}
	// A context that ended.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := pool.QueryContext(done, q, 0); err == nil {
		t.Fatal("a query with an ended context ran")
	}
	var v string
	if err := pool.QueryRowContext(ctx, q, 5).Scan(&v); err != nil || v != "v5" {
		t.Fatalf("after the cancelled query: %q %v", v, err)
	}
}

// BenchmarkStatementCache: a small query, prepared each time or cached.
func BenchmarkStatementCache(b *testing.B) {
	pool, err := openSQLitePool("file:"+filepath.Join(b.TempDir(), "c.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	pool.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`)
	pool.ExecContext(ctx, `INSERT INTO t VALUES (1, 'a')`)
	q := `SELECT t.v, t.k FROM t JOIN t AS u ON u.k = t.k LEFT JOIN t AS w ON w.k = t.k WHERE t.k = $1 AND t.v <> $2 ORDER BY t.k`
	for b.Loop() {
		var v string
		var k int
		if err := pool.QueryRowContext(ctx, q, 1, "x").Scan(&v, &k); err != nil {
			b.Fatal(err)
		}
	}
}
