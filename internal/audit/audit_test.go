package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
)

type fixture struct {
	t      testing.TB
	d      *db.DB
	log    *audit.Log
	signer *audit.Signer
	file   string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	d := dbtest.Open(t)
	dir := t.TempDir()
	s, _, err := audit.LoadOrCreateSigner(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(d, s, audit.DefaultRules)
	f := &fixture{t: t, d: d, log: l, signer: s, file: filepath.Join(dir, "checkpoints.jsonl")}
	l.SetCheckpointFile(f.file)
	return f
}

func (f *fixture) record(tenant string, e audit.Event) {
	f.t.Helper()
	e.TenantID = tenant
	if err := f.d.InTx(context.Background(), db.Installation, func(tx *sql.Tx) error { return f.log.Record(context.Background(), tx, e) }); err != nil {
		f.t.Fatalf("record %s: %v", e.Action, err)
	}
}

func (f *fixture) verify(tenant *string) audit.VerifyResult {
	f.t.Helper()
	extra, err := audit.ReadCheckpointFile(f.file)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.log.Verify(context.Background(), tenant, f.signer.PublicKey(), extra)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func signIn(user string) audit.Event {
	return audit.Event{Action: audit.SignInSucceeded, Actor: audit.User(user), Objects: []audit.Ref{{Kind: "user", ID: user}},
		Details: map[string]string{"ip": "192.0.2.1", "method": "password"}}
}

// TestNoFreeTextDetails: the catalogue holds no detail that could carry free
// text; every action has a track.
func TestNoFreeTextDetails(t *testing.T) {
	if len(audit.Catalogue) < 10 {
		t.Fatalf("catalogue has %d actions", len(audit.Catalogue))
	}
	for action, spec := range audit.Catalogue {
		if !strings.Contains(string(action), ".") || strings.ToLower(string(action)) != string(action) {
			t.Errorf("action %q is not object.verb in lower case", action)
		}
		found := false
		for _, tr := range audit.Tracks {
			found = found || tr == spec.Track
		}
		if !found {
			t.Errorf("%s: unknown track %q", action, spec.Track)
		}
		for _, d := range spec.Details {
			switch d.Kind {
			case audit.Enum, audit.EnumList:
				if len(d.Values) == 0 {
					t.Errorf("%s.%s: an enum without values", action, d.Name)
				}
			case audit.Int, audit.ID, audit.Bool:
			case audit.IP:
				if spec.Track != audit.Security {
					t.Errorf("%s.%s: IP addresses belong to the security track only", action, d.Name)
				}
			default:
				t.Errorf("%s.%s: detail kind %d may carry free text", action, d.Name, d.Kind)
			}
		}
	}
}

func TestRecordRejectsPersonalDataAndUnknowns(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		e    audit.Event
	}{
		{"unknown action", audit.Event{Action: "user.sang", Actor: audit.User("u1")}},
		{"undeclared detail", audit.Event{Action: audit.UserDisabled, Actor: audit.User("u1"), Details: map[string]string{"name": "Ada"}}},
		{"a name in an id detail", audit.Event{Action: audit.UserCreated, Actor: audit.User("u1"), Details: map[string]string{"role": "Ada Lovelace"}}},
		{"an email in an enum", audit.Event{Action: audit.SignInFailed, Actor: audit.Anonymous, Details: map[string]string{"reason": "ada@example.com"}}},
		{"not an IP", audit.Event{Action: audit.SignInFailed, Actor: audit.Anonymous, Details: map[string]string{"ip": "Ada's laptop"}}},
		{"a name as object id", audit.Event{Action: audit.UserDisabled, Actor: audit.User("u1"), Objects: []audit.Ref{{Kind: "user", ID: "Ada Lovelace"}}}},
		{"unknown actor kind", audit.Event{Action: audit.UserDisabled, Actor: audit.Actor{Kind: "ghost", ID: "x"}}},
		{"not a number", audit.Event{Action: audit.AuditExported, Actor: audit.User("u1"), Details: map[string]string{"count": "many"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.TenantID = "t1"
			err := f.d.InTx(context.Background(), db.Installation, func(tx *sql.Tx) error { return f.log.Record(context.Background(), tx, tt.e) })
			if !errors.Is(err, audit.ErrInvalidEvent) {
				t.Fatalf("got %v, want ErrInvalidEvent", err)
			}
		})
	}
	var n int
	f.d.Read.QueryRow(`SELECT count(*) FROM audit_records`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d records written, want none", n)
	}
}

func TestRecordIsAtomicWithTheChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	boom := errors.New("the change failed")
	err := f.d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		if err := f.log.Record(ctx, tx, audit.Event{TenantID: "t1", Action: audit.UserDisabled, Actor: audit.User("u1")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int
	f.d.Read.QueryRow(`SELECT count(*) FROM audit_records`).Scan(&n)
	if n != 0 {
		t.Fatalf("a rolled-back change left %d records", n)
	}
}

func TestChainAndRequestID(t *testing.T) {
	f := newFixture(t)
	ctx := audit.WithRequestID(context.Background(), "req-123")
	for i := 0; i < 3; i++ {
		if err := f.d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
			e := signIn("u1")
			e.TenantID = "t1"
			return f.log.Record(ctx, tx, e)
		}); err != nil {
			t.Fatal(err)
		}
	}
	f.record("t2", signIn("u9"))
	recs, next, err := f.log.List(ctx, "t1", audit.Filter{})
	if err != nil || next != "" || len(recs) != 3 {
		t.Fatalf("list: %d records, next %q, err %v", len(recs), next, err)
	}
	// Newest first; each links to its predecessor; the first to genesis.
	if recs[2].PrevHash != audit.GenesisHash || recs[1].PrevHash != recs[2].Hash || recs[0].PrevHash != recs[1].Hash {
		t.Fatal("records are not chained")
	}
	if recs[0].RequestID != "req-123" || recs[0].Seq != 3 || recs[0].Track != audit.Security {
		t.Fatalf("record %+v", recs[0])
	}
	res := f.verify(nil)
	if len(res.Problems) != 0 || res.Records != 4 || res.Chains != 2 {
		t.Fatalf("verify: %+v", res)
	}
}

// tamper changes the database by hand, then Verify must name the problem.
func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(f *fixture)
		kind   string
		seq    int64
	}{
		{"edited detail", func(f *fixture) {
			f.exec(`UPDATE audit_records SET details = '{"ip":"203.0.113.66","method":"password"}' WHERE tenant_id = 't1' AND seq = 3`)
		}, audit.Changed, 3},
		{"edited actor", func(f *fixture) {
			f.exec(`UPDATE audit_records SET actor_id = 'someone-else' WHERE tenant_id = 't1' AND seq = 2`)
		}, audit.Changed, 2},
		{"deleted record", func(f *fixture) {
			f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq = 3`)
		}, audit.Deleted, 3},
		{"deleted first record", func(f *fixture) {
			f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq = 1`)
		}, audit.Deleted, 1},
		{"deleted and renumbered", func(f *fixture) {
			f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1'`)
			f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq = 3`)
			for s := 4; s <= 5; s++ {
				f.exec(`UPDATE audit_records SET seq = seq - 1 WHERE tenant_id = 't1' AND seq = ` + itoa(s))
			}
		}, audit.Deleted, 3},
		{"swapped records", func(f *fixture) {
			f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1'`)
			f.exec(`UPDATE audit_records SET seq = 100 WHERE tenant_id = 't1' AND seq = 2`)
			f.exec(`UPDATE audit_records SET seq = 2 WHERE tenant_id = 't1' AND seq = 3`)
			f.exec(`UPDATE audit_records SET seq = 3 WHERE tenant_id = 't1' AND seq = 100`)
		}, audit.Reordered, 2},
		{"inserted record", func(f *fixture) {
			// A forger who knows the algorithm appends a well-formed record after #2 and renumbers.
			f.exec(`DELETE FROM audit_refs WHERE tenant_id = 't1'`)
			for s := 5; s >= 3; s-- {
				f.exec(`UPDATE audit_records SET seq = seq + 1 WHERE tenant_id = 't1' AND seq = ` + itoa(s))
			}
			f.forge("t1", 3, 2)
		}, audit.Inserted, 3},
		{"truncated tail with its checkpoints", func(f *fixture) {
			f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND seq >= 4`)
			f.exec(`DELETE FROM audit_checkpoints WHERE tenant_id = 't1'`)
		}, audit.Truncated, 4},
		{"rewritten chain", func(f *fixture) {
			// Edit #5 and recompute its hash: self-consistent, but not what was signed.
			f.exec(`UPDATE audit_records SET actor_id = 'intruder' WHERE tenant_id = 't1' AND seq = 5`)
			f.rehash("t1", 5)
		}, audit.Changed, 5},
		{"forged checkpoint", func(f *fixture) {
			f.exec(`UPDATE audit_checkpoints SET hash = '` + strings.Repeat("a", 64) + `' WHERE tenant_id = 't1'`)
		}, audit.ForgedCheckpoint, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for i := 0; i < 5; i++ {
				f.record("t1", signIn("u1"))
			}
			f.record("t2", signIn("u2"))
			if _, err := f.log.Checkpoint(context.Background(), "periodic"); err != nil {
				t.Fatal(err)
			}
			if res := f.verify(nil); len(res.Problems) != 0 {
				t.Fatalf("before tampering: %v", res.Problems)
			}
			tt.tamper(f)
			res := f.verify(nil)
			if len(res.Problems) != 1 {
				t.Fatalf("got problems %v, want exactly one (in t1)", res.Problems)
			}
			p := res.Problems[0]
			if p.TenantID != "t1" || p.Kind != tt.kind || p.Seq != tt.seq {
				t.Fatalf("got %s, want %s at #%d", p, tt.kind, tt.seq)
			}
		})
	}
}

func TestPruneKeepsChainVerifiable(t *testing.T) {
	f := newFixture(t)
	old := time.Now().Add(-400 * 24 * time.Hour)
	f.log.SetClock(func() time.Time { return old })
	for i := 0; i < 7; i++ {
		f.record("t1", signIn("u1"))
	}
	f.log.SetClock(time.Now)
	for i := 0; i < 2; i++ {
		f.record("t1", signIn("u1"))
	}
	n, err := f.log.Prune(context.Background(), nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Fatalf("pruned %d, want the 7 records older than 180 days", n)
	}
	res := f.verify(nil)
	if len(res.Problems) != 0 {
		t.Fatalf("after pruning: %v", res.Problems)
	}
	// The pruned records' references went with them; the kept ones' stay.
	var gone, kept int
	if err := f.d.Read.QueryRow(`SELECT count(*) FROM audit_refs WHERE tenant_id = 't1' AND track = 'security' AND seq <= 7`).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Read.QueryRow(`SELECT count(*) FROM audit_refs WHERE tenant_id = 't1' AND track = 'security' AND seq > 7`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if gone != 0 || kept != 2 {
		t.Fatalf("references after pruning: %d of pruned records, %d of kept ones; want 0 and 2", gone, kept)
	}
	recs, _, _ := f.log.List(context.Background(), "t1", audit.Filter{Track: audit.Security})
	if len(recs) != 2 || recs[1].Seq != 8 {
		t.Fatalf("kept %d security records from #%d, want 2 from #8", len(recs), recs[len(recs)-1].Seq)
	}
	// Deleting a kept record is still detected; appending continues the chain.
	f.record("t1", signIn("u1"))
	if res := f.verify(nil); len(res.Problems) != 0 {
		t.Fatalf("append after pruning: %v", res.Problems)
	}
	f.exec(`DELETE FROM audit_records WHERE tenant_id = 't1' AND track = 'security' AND seq = 8`)
	if res := f.verify(nil); len(res.Problems) != 1 || res.Problems[0].Kind != audit.Deleted {
		t.Fatalf("deleting after pruning: %v, want deleted", res.Problems)
	}
}

func TestRetentionMinimums(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tt := range []struct {
		track audit.Track
		days  int
		ok    bool
	}{
		{audit.Security, 179, false}, {audit.Security, 180, true}, {audit.Consent, 3652, false}, {audit.Consent, 3653, true},
		{audit.Admin, 152, false}, {audit.Admin, 153, true}, {"bogus", 1000, false},
	} {
		err := f.log.SetRetention(ctx, "t1", tt.track, tt.days)
		if (err == nil) != tt.ok {
			t.Errorf("%s %d days: got %v, want ok=%v", tt.track, tt.days, err, tt.ok)
		}
	}
	ret, err := f.log.RetentionOf(ctx, "t1", audit.Retention{audit.History: 400 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if ret[audit.Security] != 180*24*time.Hour || ret[audit.History] != 400*24*time.Hour || ret[audit.Admin] != 153*24*time.Hour {
		t.Fatalf("retention %v", ret)
	}
}

func TestAlerts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	failed := audit.Event{Action: audit.SignInFailed, Actor: audit.Anonymous, Details: map[string]string{"reason": "wrong_password", "ip": "198.51.100.7"}}
	for i := 0; i < audit.DefaultRules.FailedSignIns-1; i++ {
		f.record("t1", failed)
	}
	if a, _ := f.log.OpenAlerts(ctx, "t1"); len(a) != 0 {
		t.Fatalf("alerts below the threshold: %v", a)
	}
	f.record("t1", failed)
	f.record("t1", failed) // a burst raises one alert, not one per failure
	alerts, err := f.log.OpenAlerts(ctx, "t1")
	if err != nil || len(alerts) != 1 || alerts[0].Rule != audit.RuleFailedSignInBurst {
		t.Fatalf("got %v %v, want one burst alert", alerts, err)
	}
	f.record("t1", audit.Event{Action: audit.SignInFailed, Actor: audit.User("u1"), Details: map[string]string{"reason": "disabled_account"}})
	f.record("t1", audit.Event{Action: audit.UserCreated, Actor: audit.User("u1"), Details: map[string]string{"role": "administrator"}})
	f.record("t1", audit.Event{Action: audit.AuditExported, Actor: audit.User("u1"), Details: map[string]string{"count": "5000", "format": "csv"}})
	f.record("t1", audit.Event{Action: audit.AccountLocked, Actor: audit.System("account.lockout"), Details: map[string]string{"failures": "5"}})
	f.record("t1", audit.Event{Action: audit.UserRoleChanged, Actor: audit.User("u1"), Details: map[string]string{"role": "recruiter", "candidate_access": "true"}})
	alerts, _ = f.log.OpenAlerts(ctx, "t1")
	rules := map[audit.Rule]bool{}
	for _, a := range alerts {
		rules[a.Rule] = true
	}
	for _, r := range audit.AllRules {
		if !rules[r] {
			t.Errorf("rule %s raised no alert", r)
		}
	}
	pending, _ := f.log.PendingNotifications(ctx, 100)
	if len(pending) != 6 {
		t.Fatalf("%d pending notifications, want 6", len(pending))
	}
	if err := f.log.Acknowledge(ctx, audit.User("u1"), "t1", alerts[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.log.Acknowledge(ctx, audit.User("u1"), "t2", alerts[1].ID); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("another company's alert: %v, want ErrNotFound", err)
	}
	if after, _ := f.log.OpenAlerts(ctx, "t1"); len(after) != 5 {
		t.Fatalf("%d open alerts after acknowledging one, want 5", len(after))
	}
	if res := f.verify(nil); len(res.Problems) != 0 {
		t.Fatal(res.Problems)
	}
}

func TestSafeCSVCell(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-2": "'-2", "@x": "'@x", "\tx": "'\tx", "ok": "ok", "": ""} {
		if got := audit.SafeCSVCell(in); got != want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
