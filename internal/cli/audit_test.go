package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
)

func TestAuditCommands(t *testing.T) {
	inst := installation(t)
	with := func(args ...string) []string { return append(args, inst...) }
	// serve creates the keys and the demo company; then it stops.
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan int, 1)
	var out syncBuffer
	go func() {
		done <- Run(ctx, with("serve", "--demo", "--addr", "127.0.0.1:0"), &Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" },
			Ready: func(u string) { ready <- u }})
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, out.String())
	}
	cancel()
	<-done
	if !strings.Contains(out.String(), "audit signing key") {
		t.Fatalf("serve did not say it created the audit signing key:\n%s", out.String())
	}

	if r := run(t, nil, with("user", "create", "--tenant", "demo", "--login", "eve", "--name", "Eve")...); r.code != 0 {
		t.Fatalf("user create: %s", r.stderr)
	}
	if r := run(t, nil, with("audit", "checkpoint")...); r.code != 0 || !strings.Contains(r.stdout, "signed") {
		t.Fatalf("checkpoint: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r := run(t, nil, with("audit", "verify")...)
	if r.code != 0 || !strings.Contains(r.stdout, "the audit trail is intact") {
		t.Fatalf("verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	out2 := filepath.Join(t.TempDir(), "trail.csv")
	if r := run(t, nil, with("audit", "export", "--tenant", "demo", "--track", "admin", "--output", out2)...); r.code != 0 || !strings.Contains(r.stderr, "exported") {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	r = run(t, nil, with("audit", "export", "--tenant", "demo", "--format", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) < 4 || rows[0][0] != "time" {
		t.Fatalf("csv export: %v, %d rows", err, len(rows))
	}
	if !strings.Contains(r.stdout, "user.created") || !strings.Contains(r.stdout, "tenant.created") {
		t.Fatalf("export lacks the creations:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--track", "gossip"}, {"--since", "last week"}, {"--tenant", "nope"}} {
		if r := run(t, nil, with(append([]string{"audit", "export", "--tenant", "demo"}, bad...)...)...); r.code == 0 {
			t.Errorf("export %v: exit 0, want an error", bad)
		}
	}
	if r := run(t, nil, with("audit", "retention", "--tenant", "demo", "--set", "security=30")...); r.code != 1 || !strings.Contains(r.stderr, "at least 180 days") {
		t.Fatalf("too short retention: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, with("audit", "retention", "--tenant", "demo", "--set", "security=400")...); r.code != 0 || !strings.Contains(r.stdout, "security    400 days") {
		t.Fatalf("retention: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, with("audit", "prune")...); r.code != 0 || !strings.Contains(r.stdout, "pruned 0 records") {
		t.Fatalf("prune: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// Tamper with the database by hand: verify names it and fails.
	url := ""
	if len(inst) > 4 {
		url = inst[5] // --database-url on PostgreSQL
	}
	d, err := db.Open(context.Background(), db.Options{URL: url, DataDir: inst[1], SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(context.Background(), db.Installation, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE audit_records SET actor_id = 'someone-else' WHERE track = 'admin' AND seq = 2`)
		return err
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, with("audit", "verify", "--tenant", "demo")...)
	if r.code != 1 || !strings.Contains(r.stdout, "BROKEN") || !strings.Contains(r.stdout, "admin #2: "+audit.Changed) {
		t.Fatalf("verify after tampering: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestAuditVerifyAgainstExportedCheckpoints: with --audit-checkpoint-export,
// every checkpoint is also appended off the host; when the newest records,
// the database's checkpoints and this host's checkpoint file are all gone,
// verification against that copy (--checkpoints, or the export by default)
// still finds the truncated tail.
func TestAuditVerifyAgainstExportedCheckpoints(t *testing.T) {
	inst := installation(t)
	offsite := t.TempDir()
	with := func(args ...string) []string { return append(args, inst...) }
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan int, 1)
	var out syncBuffer
	go func() {
		done <- Run(ctx, with("serve", "--demo", "--addr", "127.0.0.1:0", "--audit-checkpoint-export", offsite), &Env{Stdout: &out, Stderr: &out,
			Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u }})
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, out.String())
	}
	cancel()
	<-done
	if r := run(t, nil, with("user", "create", "--tenant", "demo", "--login", "eve", "--name", "Eve")...); r.code != 0 {
		t.Fatalf("user create: %s", r.stderr)
	}
	exported := filepath.Join(offsite, "audit-checkpoints.jsonl")
	if r := run(t, nil, with("audit", "checkpoint", "--audit-checkpoint-export", offsite)...); r.code != 0 || !strings.Contains(r.stdout, exported) {
		t.Fatalf("checkpoint: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(exported); err != nil || !strings.Contains(string(b), `"signature"`) {
		t.Fatalf("exported checkpoints: %v %q", err, b)
	}
	if r := run(t, nil, with("audit", "checkpoint", "--audit-checkpoint-export", filepath.Join(offsite, "gone", "x.jsonl"))...); r.code == 0 ||
		!strings.Contains(r.stderr, "--audit-checkpoint-export") {
		t.Fatalf("checkpoint to a missing mount: %d %s; want a refusal naming the setting", r.code, r.stderr)
	}

	// An intruder deletes the newest admin records, every checkpoint in the
	// database and this host's checkpoint file.
	url := ""
	if len(inst) > 4 {
		url = inst[5] // --database-url on PostgreSQL
	}
	d, err := db.Open(context.Background(), db.Options{URL: url, DataDir: inst[1], SessionScope: db.Installation})
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(context.Background(), db.Installation, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM audit_refs WHERE track = 'admin' AND seq >= 2`, `DELETE FROM audit_records WHERE track = 'admin' AND seq >= 2`,
			`DELETE FROM audit_checkpoints`} {
			if _, err := tx.Exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(inst[1], "audit-checkpoints.jsonl")); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, with("audit", "verify")...); r.code != 0 {
		t.Fatalf("verify on this host alone: %d %s %s; it has nothing left to compare with", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"--checkpoints", exported}, {"--audit-checkpoint-export", offsite}} {
		r := run(t, nil, with(append([]string{"audit", "verify"}, args...)...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "admin #2: "+audit.Truncated) || !strings.Contains(r.stdout, "exported checkpoints in "+exported) {
			t.Fatalf("verify %v: %d %s %s", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, nil, with("audit", "verify", "--checkpoints", filepath.Join(offsite, "nothing.jsonl"))...); r.code == 0 || !strings.Contains(r.stderr, "--checkpoints") {
		t.Fatalf("verify against a file that is not there: %d %s", r.code, r.stderr)
	}
}
