package app

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/kandidat/kandidat/internal/audit"
)

// TestDemoRaisesNoAlertsAboutItself: a fresh demo's first dashboard shows
// no alert about the demo's own set-up (its administrator, the rights it
// gave its users), though the trail records every step of it.
func TestDemoRaisesNoAlertsAboutItself(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, testConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)), OpenOptions{Migrate: true, CreateMasterKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.FirstRun(ctx, true, "http://localhost", io.Discard); err != nil {
		t.Fatal(err)
	}
	demo, err := a.Tenants.BySlug(ctx, DemoSlug)
	if err != nil {
		t.Fatal(err)
	}
	open, err := a.Audit.OpenAlerts(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range open {
		t.Errorf("open alert after the demo set-up: %s (record %s/%d)", al.Rule, al.RecordTrack, al.RecordSeq)
	}
	// Nor is its acknowledged alert emailed to the administrators.
	if pending, err := a.Audit.PendingNotifications(ctx, 100); err != nil || len(pending) != 0 {
		t.Errorf("alerts waiting to be emailed after the demo set-up: %d (%v)", len(pending), err)
	}
	// The trail keeps the alert the administrator's creation raised and
	// its acknowledgement by the set-up.
	for _, action := range []audit.Action{audit.AlertRaised, audit.AlertAcknowledged} {
		recs, _, err := a.Audit.List(ctx, demo.ID, audit.Filter{Action: action, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Details["rule"] != string(audit.RuleNewAdministrator) {
			t.Errorf("%s: %d records in the trail, want one about the new administrator", action, len(recs))
			continue
		}
		if action == audit.AlertAcknowledged && recs[0].Actor.ID != "first-run" {
			t.Errorf("the demo's alert was acknowledged by %q, want the set-up", recs[0].Actor.ID)
		}
	}
}
