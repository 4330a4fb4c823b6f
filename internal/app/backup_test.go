package app

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// TestStaleScratchDatabasesAreDropped: a restore drill on PostgreSQL
// drops the scratch databases killed drills left (older than six hours,
// each holding a restored copy) and leaves a recent one, which may be a
// drill in progress, and databases that are not scratch.
func TestStaleScratchDatabasesAreDropped(t *testing.T) {
	base := os.Getenv(dbtest.PostgresEnv)
	if base == "" {
		t.Skip("scratch databases are PostgreSQL's; run with " + dbtest.PostgresEnv)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // after the drops below (cleanups run last first)
	now := time.Now().Unix()
	old := fmt.Sprintf("kandidat_verify_%d_%s", now-7*3600, "0123456789ab")
	recent := fmt.Sprintf("kandidat_verify_%d_%s", now-600, "ba9876543210")
	other := "kandidat_verify_not_scratch"
	for _, name := range []string{old, recent, other} {
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	}
	_, drop, err := scratchDatabase(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	drop()
	names, err := dbNames(admin)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, old) {
		t.Errorf("the scratch database of a drill seven hours old is still there")
	}
	if !slices.Contains(names, recent) || !slices.Contains(names, other) {
		t.Errorf("a recent scratch database or another database was dropped: %v", names)
	}
}

func dbNames(admin *sql.DB) ([]string, error) {
	rows, err := admin.Query(`SELECT datname FROM pg_database`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
