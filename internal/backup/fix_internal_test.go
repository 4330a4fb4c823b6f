package backup

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParsePGURLQueryPassword: a password given in the URL's query
// reaches pg_dump through PGPASSWORD, never its command line, and the
// libpq parameters of the query (sslmode, sslrootcert, host, user...) are
// passed on; pgx's own and "options" are not.
func TestParsePGURLQueryPassword(t *testing.T) {
	c, err := parsePGURL("postgres://kandidat@db.example:5433/app?password=s%26cret%3D&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem" +
		"&host=%2Fvar%2Frun%2Fpostgresql&user=backup&application_name=kb&search_path=tenant1&pool_max_conns=4&options=-c%20x%3Dy")
	if err != nil {
		t.Fatal(err)
	}
	if c.password != "s&cret=" {
		t.Errorf("password %q", c.password)
	}
	for _, secret := range []string{"cret", "password"} {
		if strings.Contains(c.libpq, secret) {
			t.Errorf("libpq URL %s holds %q", c.libpq, secret)
		}
	}
	for _, want := range []string{"sslmode=verify-full", "sslrootcert=%2Fetc%2Fca.pem", "host=%2Fvar%2Frun%2Fpostgresql", "user=backup", "application_name=kb"} {
		if !strings.Contains(c.libpq, want) {
			t.Errorf("libpq URL %s lacks %s", c.libpq, want)
		}
	}
	for _, gone := range []string{"search_path", "pool_max_conns", "options"} {
		if strings.Contains(c.libpq, gone) {
			t.Errorf("libpq URL %s holds %s", c.libpq, gone)
		}
	}
	env := strings.Join(c.env(), "\n")
	if !strings.Contains(env, "PGPASSWORD=s&cret=\n") && !strings.HasSuffix(env, "PGPASSWORD=s&cret=") {
		t.Errorf("PGPASSWORD missing from the environment")
	}
	// The query's password wins over the user part's, as for libpq.
	if c, _ := parsePGURL("postgres://u:old@h/d?password=new"); c.password != "new" || strings.Contains(c.libpq, "old") || strings.Contains(c.libpq, "new") {
		t.Errorf("password %q, libpq %s", c.password, c.libpq)
	}
	if c, _ := parsePGURL("postgres://u:only@h/d"); c.password != "only" {
		t.Errorf("password %q", c.password)
	}
}

// TestToolMessage: an error quotes one line of pg_restore's messages, its
// error line, at most 300 bytes: never the DETAIL and CONTEXT lines that
// quote rows.
func TestToolMessage(t *testing.T) {
	out := `pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 3456; 0 16390 TABLE DATA candidates kandidat
pg_restore: error: COPY failed for table "candidates": ERROR:  new row for relation "candidates" violates check constraint "c"
DETAIL:  Failing row contains (0190, Jana Nováková, jana@example.cz).
CONTEXT:  COPY candidates, line 1: "0190	Jana Nováková	jana@example.cz"
`
	got := toolMessage(out)
	if got != `pg_restore: error: COPY failed for table "candidates": ERROR:  new row for relation "candidates" violates check constraint "c"` {
		t.Errorf("message %q", got)
	}
	if got := toolMessage("pg_dump: something odd\nDETAIL: Nováková\n"); got != "pg_dump: something odd" {
		t.Errorf("without an error line: %q", got)
	}
	long := "pg_restore: error: " + strings.Repeat("ž", 400)
	if got := toolMessage(long); len(got) > maxToolMessage+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "pg_restore: error: žž") || !strings.ContainsRune(got[len(got)-5:], 'ž') {
		t.Errorf("long message cut to %d bytes: %q", len(got), got)
	}
	if got := toolMessage("\n \n"); got != "(no message)" {
		t.Errorf("empty: %q", got)
	}
}

// TestListFutureAndOrder: with the clock given, an id more than
// FutureSkew ahead is Future; within it, not. Backups of one second sort
// by their milliseconds, one of the first form (to the second) before one
// of the same second with milliseconds, whatever their random digits.
func TestListFutureAndOrder(t *testing.T) {
	ctx := context.Background()
	tg := openTarget(t, "d", filepath.Join(t.TempDir(), "t"), OpenOptions{})
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	ids := []string{
		"20261203T020000Z-ffffff",     // 02:00:00.000, first form
		"20261203T020000.001Z-000000", // .001
		"20261203T020000.500Z-00000a", // .500
		"20261203T020009.999Z-000001", // 9.999 s ahead: not future
		"20261203T020959.000Z-aaaaaa", // 9m59s ahead: not future
		"20261203T021001.000Z-000002", // 10m01s ahead: future
		"29990101T000000Z-abcdef",     // planted
	}
	for _, id := range ids {
		putBackup(t, tg, id, true)
	}
	es, err := list(ctx, tg, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(ids) {
		t.Fatalf("%d entries", len(es))
	}
	for i, e := range es {
		want := ids[len(ids)-1-i]
		if e.ID != want {
			t.Errorf("entry %d is %s, want %s", i, e.ID, want)
		}
		if future := i < 2; e.Future != future || !e.Complete {
			t.Errorf("%s: future %v complete %v", e.ID, e.Future, e.Complete)
		}
	}
}

// TestPruneOrdersByIDTime: retention takes the newest by the time of the
// ids, not their text: of two backups of one second, the one with
// milliseconds (made later) stays over the one of the first form.
func TestPruneOrdersByIDTime(t *testing.T) {
	ctx := context.Background()
	tg := openTarget(t, "d", filepath.Join(t.TempDir(), "t"), OpenOptions{})
	older, newer := "20261203T020000Z-ffffff", "20261203T020000.500Z-000000"
	putBackup(t, tg, older, true)
	putBackup(t, tg, newer, true)
	deleted, err := Prune(ctx, tg, Spec{Name: "d", Keep: 1}, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0] != older {
		t.Errorf("deleted %v, want [%s]", deleted, older)
	}
	if ids := backupIDs(t, tg); len(ids) != 1 || !ids[newer] {
		t.Errorf("left %v", ids)
	}
}
