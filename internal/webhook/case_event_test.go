package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/whistle"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// TestCaseAcknowledgedEvent: a handler acknowledging a whistleblowing
// report sends case.acknowledged with the case's and channel's ids and
// nothing of the report; a subscription to other events receives nothing.
func TestCaseAcknowledgedEvent(t *testing.T) {
	saved := vault.Params
	vault.Params = vault.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}
	defer func() { vault.Params = saved }()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.kit.Tenants.SetModules(ctx, audit.Operator, e.company.ID, append(slices.Clone(e.company.Modules), tenant.Whistleblowing)); err != nil {
		t.Fatal(err)
	}
	rec := newReceiver(t, ok200)
	e.subscribe(rec.URL+"/cases", CaseAcknowledged)
	e.subscribe(rec.URL+"/apps", ApplicationCreated)

	w := e.kit.Whistle
	karin := e.kit.Actor(t, e.company.ID, "karin", access.CaseHandler)
	if _, err := w.Enrol(ctx, karin, testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	ch, err := w.SaveChannel(ctx, access.Operator(e.company.ID, access.CompanySettings), whistle.Channel{Slug: "group", Name: "Group", DefaultLanguage: "en", Languages: []string{"en"},
		RetentionDays: 365, Active: true, Handlers: []string{karin.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "BribesInWarehouseSeven"
	if _, err := w.Submit(ctx, e.company.ID, ch, whistle.Submission{Language: "en", Text: "Someone takes " + secret}); err != nil {
		t.Fatal(err)
	}
	env, err := w.Unlock(ctx, karin, "s1", testkit.Password)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := w.Handler(ctx, karin, "s1", env)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := w.Cases(ctx, karin, whistle.CaseFilter{})
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases %v %v", cases, err)
	}
	if err := w.Acknowledge(ctx, h, cases[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 1 {
		t.Fatalf("enqueue: %d %v, want 1", n, err)
	}
	if sent, err := e.svc.Deliver(ctx, 10); err != nil || sent != 1 {
		t.Fatalf("deliver: %d %v, want 1", sent, err)
	}
	got := rec.received()
	if len(got) != 1 || got[0].header.Get(EventHeader) != CaseAcknowledged {
		t.Fatalf("received %d deliveries, want 1 of %s", len(got), CaseAcknowledged)
	}
	if strings.Contains(string(got[0].body), secret) {
		t.Fatalf("the payload carries the report: %s", got[0].body)
	}
	var ev Event
	if err := json.Unmarshal(got[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"case": cases[0].ID, "channel": ch}
	if ev.Type != CaseAcknowledged || ev.Company != e.company.ID || len(ev.Data) != 2 || ev.Data["case"] != want["case"] || ev.Data["channel"] != want["channel"] {
		t.Fatalf("event %+v, want type %s data %v", ev, CaseAcknowledged, want)
	}
}
