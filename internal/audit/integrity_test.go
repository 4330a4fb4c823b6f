package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

// onlyProblem fails unless res holds exactly one problem, of kind at seq in
// company t1.
func onlyProblem(t *testing.T, res audit.VerifyResult, kind string, seq int64) {
	t.Helper()
	if len(res.Problems) != 1 {
		t.Fatalf("got problems %v, want exactly one %s at #%d", res.Problems, kind, seq)
	}
	if p := res.Problems[0]; p.TenantID != "t1" || p.Kind != kind || p.Seq != seq {
		t.Fatalf("got %s, want %s at #%d", p, kind, seq)
	}
}

// TestOnlyPruneCheckpointsVouchForMissingRecords: records missing at the
// start of a chain are accepted only behind a checkpoint signed for a
// prune; an ordinary checkpoint says what the chain was, not that its
// beginning may go.
func TestOnlyPruneCheckpointsVouchForMissingRecords(t *testing.T) {
	t.Run("deleted behind an ordinary checkpoint", func(t *testing.T) {
		f := newFixture(t)
		for i := 0; i < 5; i++ {
			f.record("t1", signIn("u1"))
		}
		if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			f.record("t1", signIn("u1"))
		}
		if res := f.verify(nil); len(res.Problems) != 0 {
			t.Fatalf("before tampering: %v", res.Problems)
		}
		// The intruder deletes the first five records and their references,
		// leaving the chain to start at the periodic checkpoint.
		f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1' AND seq <= 5`)
		f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq <= 5`)
		onlyProblem(t, f.verify(nil), audit.Deleted, 1)
	})

	t.Run("an ordinary checkpoint relabelled as a prune", func(t *testing.T) {
		f := newFixture(t)
		for i := 0; i < 5; i++ {
			f.record("t1", signIn("u1"))
		}
		if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
			t.Fatal(err)
		}
		f.record("t1", signIn("u1"))
		os.Remove(f.file) // the intruder also holds this host's copy
		f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1' AND seq <= 5`)
		f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq <= 5`)
		f.exec(`UPDATE audit_checkpoints SET reason = 'prune', pruned_before = created_at WHERE tenant_id = 't1'`)
		onlyProblem(t, f.verify(nil), audit.ForgedCheckpoint, 5)
	})

	t.Run("pruned behind a prune checkpoint", func(t *testing.T) {
		f := newFixture(t)
		old := time.Now().Add(-400 * 24 * time.Hour)
		f.log.SetClock(func() time.Time { return old })
		for i := 0; i < 5; i++ {
			f.record("t1", signIn("u1"))
		}
		// A periodic checkpoint at the record the prune will stop at: the
		// prune checkpoint replaces it in the database (the exported file
		// keeps both, and they agree).
		if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
			t.Fatal(err)
		}
		f.log.SetClock(time.Now)
		for i := 0; i < 3; i++ {
			f.record("t1", signIn("u1"))
		}
		if n, err := f.log.Prune(context.Background(), nil, 100); err != nil || n != 5 {
			t.Fatalf("pruned %d, %v; want the 5 old records", n, err)
		}
		var reason string
		var version int
		var before sql.NullTime
		if err := f.d.Read.QueryRow(`SELECT reason, version, pruned_before FROM audit_checkpoints WHERE tenant_id = 't1' AND track = 'security' AND seq = 5`).
			Scan(&reason, &version, &before); err != nil {
			t.Fatal(err)
		}
		if reason != audit.ReasonPrune || version != 2 || !before.Valid || before.Time.After(time.Now().Add(-180*24*time.Hour)) {
			t.Fatalf("checkpoint at #5: reason %q, version %d, pruned before %v; want a signed prune with its cut-off", reason, version, before)
		}
		if res := f.verify(nil); len(res.Problems) != 0 {
			t.Fatalf("after pruning: %v", res.Problems)
		}
		// Deleting one more record at the start is not a prune.
		f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1' AND track = 'security' AND seq = 6`)
		f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND track = 'security' AND seq = 6`)
		onlyProblem(t, f.verify(nil), audit.Deleted, 1)
	})

	t.Run("a whole chain pruned", func(t *testing.T) {
		f := newFixture(t)
		old := time.Now().Add(-400 * 24 * time.Hour)
		f.log.SetClock(func() time.Time { return old })
		for i := 0; i < 4; i++ {
			f.record("t1", signIn("u1"))
		}
		f.log.SetClock(time.Now)
		if n, err := f.log.Prune(context.Background(), nil, 100); err != nil || n != 4 {
			t.Fatalf("pruned %d, %v; want 4", n, err)
		}
		// The security chain has no record left; its prune checkpoint says why.
		if res := f.verify(nil); len(res.Problems) != 0 {
			t.Fatalf("after pruning every record: %v", res.Problems)
		}
	})
}

// TestVerifyChecksTheIndexOfObjects: audit_refs, by which an object's
// records are found, is checked against each record's own (hashed) object
// list: a reference deleted, altered, moved or added is found.
func TestVerifyChecksTheIndexOfObjects(t *testing.T) {
	tests := []struct {
		name   string
		tamper string
		seq    int64
	}{
		{"deleted reference", `DELETE FROM audit_refs WHERE tenant_id = 't1' AND track = 'security' AND seq = 3 AND object_kind = 'user'`, 3},
		{"reference to another object", `UPDATE audit_refs SET object_id = 'u2' WHERE tenant_id = 't1' AND track = 'security' AND seq = 2 AND object_kind = 'user'`, 2},
		{"reference of another kind", `UPDATE audit_refs SET object_kind = 'candidate' WHERE tenant_id = 't1' AND track = 'security' AND seq = 4 AND object_kind = 'user'`, 4},
		{"reference at another time", `UPDATE audit_refs SET occurred_at = '2020-01-01 00:00:00+00:00' WHERE tenant_id = 't1' AND track = 'security' AND seq = 3 AND object_kind = 'user'`, 3},
		{"reference moved to another record", `UPDATE audit_refs SET seq = 5 WHERE tenant_id = 't1' AND track = 'security' AND seq = 1`, 1},
		{"reference added", `INSERT INTO audit_refs (tenant_id, object_kind, object_id, occurred_at, track, seq)
			SELECT tenant_id, 'candidate', 'c9', occurred_at, track, seq FROM audit_records WHERE tenant_id = 't1' AND track = 'security' AND seq = 2`, 2},
		{"reference to a record that does not exist", `INSERT INTO audit_refs (tenant_id, object_kind, object_id, occurred_at, track, seq)
			SELECT tenant_id, 'user', 'u1', occurred_at, track, 0 FROM audit_records WHERE tenant_id = 't1' AND track = 'security' AND seq = 2`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for i := 0; i < 5; i++ {
				f.record("t1", signIn("u1"))
			}
			f.record("t2", signIn("u1"))
			if res := f.verify(nil); len(res.Problems) != 0 || res.References != 6 {
				t.Fatalf("before tampering: %v, %d references; want none and 6", res.Problems, res.References)
			}
			f.exec(tt.tamper)
			onlyProblem(t, f.verify(nil), audit.RefsChanged, tt.seq)
		})
	}
}

// TestVerifyChecksAlerts: each alert row must say what the records that
// raised and acknowledged it say; a row deleted, altered, closed without a
// record or added by hand is found.
func TestVerifyChecksAlerts(t *testing.T) {
	tests := []struct {
		name   string
		tamper string
	}{
		{"alert deleted", `DELETE FROM audit_alerts WHERE tenant_id = 't1' AND rule = 'new_administrator'`},
		{"alert closed by hand", `UPDATE audit_alerts SET acknowledged_at = created_at, acknowledged_by = 'u1' WHERE tenant_id = 't1' AND rule = 'new_administrator'`},
		{"acknowledgement undone", `UPDATE audit_alerts SET acknowledged_at = NULL, acknowledged_by = '' WHERE tenant_id = 't1' AND rule = 'account_locked'`},
		{"acknowledged by someone else", `UPDATE audit_alerts SET acknowledged_by = 'u2' WHERE tenant_id = 't1' AND rule = 'account_locked'`},
		{"count changed", `UPDATE audit_alerts SET count = 1 WHERE tenant_id = 't1' AND rule = 'mass_activity'`},
		{"rule changed", `UPDATE audit_alerts SET rule = 'account_locked' WHERE tenant_id = 't1' AND rule = 'new_administrator'`},
		{"pointed at another record", `UPDATE audit_alerts SET record_seq = record_seq + 1 WHERE tenant_id = 't1' AND rule = 'mass_activity'`},
		{"alert added", `INSERT INTO audit_alerts (tenant_id, id, rule, count, created_at, record_track, record_seq)
			SELECT tenant_id, 'forged-alert', rule, count, created_at, record_track, record_seq FROM audit_alerts WHERE tenant_id = 't1' AND rule = 'mass_activity'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.record("t1", audit.Event{Action: audit.UserCreated, Actor: audit.User("u1"), Details: map[string]string{"role": "administrator"}})
			f.record("t1", audit.Event{Action: audit.AuditExported, Actor: audit.User("u1"), Details: map[string]string{"count": "5000", "format": "csv"}})
			f.record("t1", audit.Event{Action: audit.AccountLocked, Actor: audit.System("account.lockout"), Details: map[string]string{"failures": "5"}})
			alerts, err := f.log.OpenAlerts(ctx, "t1")
			if err != nil || len(alerts) != 3 {
				t.Fatalf("alerts %v, %v; want 3", alerts, err)
			}
			for _, a := range alerts {
				if a.Rule == audit.RuleAccountLocked {
					if err := f.log.Acknowledge(ctx, audit.User("u1"), "t1", a.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			// When an alert's email went out is the jobs runner's
			// bookkeeping, not part of the trail.
			for _, a := range alerts {
				if err := f.log.MarkNotified(ctx, "t1", a.ID); err != nil {
					t.Fatal(err)
				}
			}
			if res := f.verify(nil); len(res.Problems) != 0 || res.Alerts != 3 {
				t.Fatalf("before tampering: %v, %d alerts", res.Problems, res.Alerts)
			}
			f.exec(tt.tamper)
			res := f.verify(nil)
			if len(res.Problems) != 1 || res.Problems[0].Kind != audit.AlertChanged || res.Problems[0].TenantID != "t1" {
				t.Fatalf("got problems %v, want one alert_changed in t1", res.Problems)
			}
		})
	}
}

// TestExportedCheckpointsAnchorTheTrail: checkpoints appended to a second
// location off the host find what the database and this host's files no
// longer show: the newest records deleted together with their checkpoints
// and the local checkpoint file, and a chain rewritten and re-signed by
// someone who holds the signing key too.
func TestExportedCheckpointsAnchorTheTrail(t *testing.T) {
	setup := func(t *testing.T) (*fixture, string) {
		f := newFixture(t)
		export := filepath.Join(t.TempDir(), "offsite.jsonl")
		f.log.SetCheckpointExport(export)
		for i := 0; i < 5; i++ {
			f.record("t1", signIn("u1"))
		}
		f.record("t2", signIn("u2"))
		if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
			t.Fatal(err)
		}
		local, err := audit.ReadCheckpointFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := audit.ReadCheckpointFile(export)
		if err != nil || len(remote) != 2 || len(local) != 2 {
			t.Fatalf("exported %d checkpoints (%v), %d locally; want 2 in each", len(remote), err, len(local))
		}
		return f, export
	}
	against := func(t *testing.T, f *fixture, file string) audit.VerifyResult {
		t.Helper()
		cps, err := audit.ReadCheckpointFile(file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.log.Verify(context.Background(), nil, f.signer.PublicKey(), cps)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Run("truncated tail", func(t *testing.T) {
		f, export := setup(t)
		f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1' AND seq >= 3`)
		f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq >= 3`)
		f.exec(`DELETE FROM audit_checkpoints WHERE tenant_id = 't1'`)
		os.Remove(f.file)
		if res := f.verify(nil); len(res.Problems) != 0 {
			t.Fatalf("this host shows nothing, yet verify found %v", res.Problems)
		}
		onlyProblem(t, against(t, f, export), audit.Truncated, 3)
	})

	t.Run("rewritten and re-signed with the key", func(t *testing.T) {
		f, export := setup(t)
		f.exec(`UPDATE audit_records SET actor_id = 'intruder' WHERE tenant_id = 't1' AND seq = 2`)
		f.rehashFrom("t1", 2)
		f.exec(`DELETE FROM audit_checkpoints WHERE tenant_id = 't1'`)
		os.Remove(f.file)
		if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
			t.Fatal(err)
		}
		if res := f.verify(nil); len(res.Problems) != 0 {
			t.Fatalf("the re-signed chain should pass on this host alone, got %v", res.Problems)
		}
		onlyProblem(t, against(t, f, export), audit.Changed, 5)
	})

	t.Run("export location missing", func(t *testing.T) {
		f := newFixture(t)
		mount := filepath.Join(t.TempDir(), "not-mounted")
		f.log.SetCheckpointExport(filepath.Join(mount, "offsite.jsonl"))
		f.record("t1", signIn("u1"))
		cps, err := f.log.Checkpoint(context.Background(), "periodic")
		if err == nil || len(cps) != 1 {
			t.Fatalf("checkpoint with the export's directory missing: %v, %d checkpoints; want an error and the checkpoint kept", err, len(cps))
		}
		if _, err := os.Stat(mount); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the missing mount point was created (%v): checkpoints would stay on this host", err)
		}
		if local, _ := audit.ReadCheckpointFile(f.file); len(local) != 1 {
			t.Fatalf("the local file holds %d checkpoints, want 1", len(local))
		}
	})
}

// rehashFrom recomputes the hashes and links of t1's security chain from
// seq on, as an intruder who knows the algorithm would after an edit.
func (f *fixture) rehashFrom(tenant string, seq int64) {
	f.t.Helper()
	prev := f.load(tenant, seq-1).Hash
	for s := seq; ; s++ {
		r := f.load(tenant, s)
		if r.ID == "" {
			return
		}
		r.PrevHash = prev
		r.Hash = audit.ComputeHash(prev, &r)
		if _, err := f.d.Write.Exec(`UPDATE audit_records SET prev_hash = $1, hash = $2 WHERE tenant_id = $3 AND track = 'security' AND seq = $4`,
			r.PrevHash, r.Hash, tenant, s); err != nil {
			f.t.Fatal(err)
		}
		prev = r.Hash
	}
}

// refuseExportRecords makes the database refuse to store audit.exported
// records, as a full disk or a broken trail would.
func refuseExportRecords(t *testing.T, d *db.DB) {
	t.Helper()
	if d.Engine == db.Postgres {
		dbtest.ExecAsOwner(t, d, `CREATE FUNCTION refuse_export() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.action = 'audit.exported' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`)
		dbtest.ExecAsOwner(t, d, `CREATE TRIGGER refuse_export BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse_export()`)
		return
	}
	dbtest.ExecAsOwner(t, d, `CREATE TRIGGER refuse_export BEFORE INSERT ON audit_records WHEN NEW.action = 'audit.exported'
BEGIN SELECT RAISE(ABORT, 'refused'); END`)
}

// TestExportIsRecordedFirst: the record of an export is committed before
// the export is written, says how many records it holds, and without it
// there is no export.
func TestExportIsRecordedFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		f.record("t1", signIn("u1"))
	}
	exp, err := f.log.StartExport(ctx, audit.User("u1"), "t1", audit.Filter{Track: audit.Security}, "csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := f.log.List(ctx, "t1", audit.Filter{Action: audit.AuditExported})
	if err != nil || len(recs) != 1 || recs[0].Details["count"] != "7" || recs[0].Actor.ID != "u1" {
		t.Fatalf("before the export is written: %+v, %v; want its committed record counting 7", recs, err)
	}
	// Records appended after the export was recorded (its own record
	// included) are not in it.
	f.record("t1", signIn("u1"))
	var b strings.Builder
	n, err := exp.WriteTo(ctx, &b)
	if err != nil || n != 7 || exp.Count != 7 || strings.Count(b.String(), "\n") != 8 {
		t.Fatalf("export wrote %d records (%d lines), counted %d, %v; want 7", n, strings.Count(b.String(), "\n"), exp.Count, err)
	}

	refuseExportRecords(t, f.d)
	exp, err = f.log.StartExport(ctx, audit.User("u1"), "t1", audit.Filter{}, "json")
	if err == nil || exp != nil {
		t.Fatalf("export without its record: %v, %v; want an error and no export", exp, err)
	}
	if _, err := f.log.StartExport(ctx, audit.User("u1"), "t1", audit.Filter{}, "xml"); !errors.Is(err, audit.ErrInvalidEvent) {
		t.Fatalf("unknown format: %v", err)
	}
}
