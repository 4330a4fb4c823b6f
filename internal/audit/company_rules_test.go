package audit_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
)

// TestCompanyAlertThresholds: a company's own thresholds replace the
// installation's for it alone; returning to the installation's is nil.
func TestCompanyAlertThresholds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	set := func(tenant string, r *audit.Rules) {
		t.Helper()
		if err := f.d.InTx(ctx, tenant, func(tx *sql.Tx) error { return f.log.SetRulesTx(ctx, tx, tenant, r) }); err != nil {
			t.Fatal(err)
		}
	}
	set("t1", &audit.Rules{FailedSignIns: 2, FailedSignInWindow: 5 * time.Minute, MassCount: 10})
	failed := audit.Event{Action: audit.SignInFailed, Actor: audit.Anonymous, Details: map[string]string{"reason": "wrong_password"}}
	for _, tenant := range []string{"t1", "t2"} {
		f.record(tenant, failed)
		f.record(tenant, failed)
		f.record(tenant, audit.Event{Action: audit.AuditExported, Actor: audit.User("u1"), Details: map[string]string{"count": "20", "format": "csv"}})
	}
	if a, _ := f.log.OpenAlerts(ctx, "t1"); len(a) != 2 {
		t.Fatalf("t1, with thresholds 2 and 10: %d alerts, want a burst and a mass alert", len(a))
	}
	if a, _ := f.log.OpenAlerts(ctx, "t2"); len(a) != 0 {
		t.Fatalf("t2 follows the installation's thresholds (%+v): %d alerts, want none", audit.DefaultRules, len(a))
	}
	if r, own, err := f.log.RulesOf(ctx, "t1"); err != nil || !own || r.FailedSignIns != 2 || r.FailedSignInWindow != 5*time.Minute {
		t.Fatalf("RulesOf t1: %+v %v %v", r, own, err)
	}
	set("t1", nil)
	if r, own, err := f.log.RulesOf(ctx, "t1"); err != nil || own || r != audit.DefaultRules {
		t.Fatalf("after returning to the installation's: %+v %v %v", r, own, err)
	}
	for _, bad := range []audit.Rules{{FailedSignIns: -1, FailedSignInWindow: time.Minute}, {FailedSignInWindow: time.Second}, {FailedSignInWindow: 48 * time.Hour},
		{FailedSignInWindow: time.Minute, MassCount: -5}} {
		if bad.Check() == "" {
			t.Errorf("%+v passes the check", bad)
		}
		if err := f.d.InTx(ctx, "t1", func(tx *sql.Tx) error { return f.log.SetRulesTx(ctx, tx, "t1", &bad) }); err == nil {
			t.Errorf("%+v was stored", bad)
		}
	}
}
