package privacy_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// breachEnv is a company in Prague (its clocks change) with its
// administrator, and the privacy engine at a settable time.
type breachEnv struct {
	k     *testkit.Kit
	c     *tenant.Tenant
	admin access.Actor
	now   time.Time
	loc   *time.Location
}

func newBreachEnv(t *testing.T) *breachEnv {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME"})
	e := &breachEnv{k: k, c: c, admin: k.Actor(t, c.ID, "ada", access.Administrator)}
	if err := k.Tenants.SaveProfile(context.Background(), e.admin, tenant.Profile{Name: "ACME", DefaultLanguage: "en", TimeZone: "Europe/Prague"}); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.loc, err = time.LoadLocation("Europe/Prague"); err != nil {
		t.Fatal(err)
	}
	e.now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	k.Privacy.SetClock(func() time.Time { return e.now })
	return e
}

func (e *breachEnv) create(t *testing.T, in privacy.BreachInput) *privacy.Breach {
	t.Helper()
	b, err := e.k.Privacy.CreateBreach(context.Background(), e.admin, in)
	if err != nil {
		t.Fatalf("create breach: %v", err)
	}
	return b
}

// TestBreachDeadlineAcrossClockChanges: the authority's deadline is 72
// hours after discovery, whatever the wall clock does in between; the
// local times are read in the company's zone.
func TestBreachDeadlineAcrossClockChanges(t *testing.T) {
	e := newBreachEnv(t)
	for _, tc := range []struct {
		name, discovered string
		wantUTC          time.Time
		wantLocal        string
	}{
		// Summer time starts on 29 March 2026 at 02:00 (CET to CEST): the
		// deadline is an hour later on the wall clock.
		{"spring", "2026-03-28T10:00", time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC), "2026-03-31T11:00"},
		// It ends on 25 October 2026 at 03:00: an hour earlier.
		{"autumn", "2026-10-24T10:00", time.Date(2026, 10, 27, 8, 0, 0, 0, time.UTC), "2026-10-27T09:00"},
		// Discovered in the hour that does not exist (02:30 on the night
		// summer time starts): read as 03:30 CEST.
		{"skipped hour", "2026-03-29T02:30", time.Date(2026, 4, 1, 1, 30, 0, 0, time.UTC), "2026-04-01T03:30"},
		{"no change", "2026-06-10T23:59", time.Date(2026, 6, 13, 21, 59, 0, 0, time.UTC), "2026-06-13T23:59"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.create(t, privacy.BreachInput{Title: "Laptop lost " + tc.name, DiscoveredAt: tc.discovered})
			if got := b.DiscoveredAt.Add(72 * time.Hour); !got.Equal(b.Deadline()) {
				t.Fatalf("deadline %v is not 72 hours after discovery %v", b.Deadline(), b.DiscoveredAt)
			}
			if !b.Deadline().Equal(tc.wantUTC) {
				t.Fatalf("deadline %v, want %v", b.Deadline(), tc.wantUTC)
			}
			if got := privacy.FormatLocal(b.Deadline(), e.loc); got != tc.wantLocal {
				t.Fatalf("deadline on the company's clock %s, want %s", got, tc.wantLocal)
			}
			// Stored and read back the same.
			read, err := e.k.Privacy.Breach(context.Background(), e.admin, b.ID)
			if err != nil || !read.Deadline().Equal(tc.wantUTC) {
				t.Fatalf("read back: deadline %v %v, want %v", read.Deadline(), err, tc.wantUTC)
			}
			// One minute before the deadline: time left; at it: overdue.
			before := tc.wantUTC.Add(-time.Minute)
			if read.Overdue(before) || read.TimeLeft(before) != time.Minute {
				t.Fatalf("a minute before: overdue %v, left %v", read.Overdue(before), read.TimeLeft(before))
			}
			if !read.Overdue(tc.wantUTC) || !read.Overdue(tc.wantUTC.Add(time.Hour)) {
				t.Fatal("not overdue at and after the deadline")
			}
		})
	}
}

// TestBreachNotification: recording the authority's notification ends the
// deadline; a late one needs the reasons for the delay; both notifications
// and the changes are on the GDPR track, with no text of the record.
func TestBreachNotification(t *testing.T) {
	e := newBreachEnv(t)
	ctx := context.Background()
	b := e.create(t, privacy.BreachInput{Title: "Mailbox compromised", Description: "Secretdescription of the incident",
		DiscoveredAt: "2026-10-20T08:00", SubjectCategories: []string{"candidates"}, DataCategories: []string{"contact", "documents"},
		SubjectsCount: "120", RecordsCount: "480"})
	if b.Status != privacy.BreachOpen || *b.SubjectsCount != 120 || len(b.DataCategories) != 2 {
		t.Fatalf("created %+v", b)
	}
	if !b.Overdue(e.now) {
		t.Fatal("a breach discovered 12 days ago and not notified is not overdue")
	}
	in := privacy.BreachInput{Title: b.Title, Description: b.Description, DiscoveredAt: "2026-10-20T08:00",
		SubjectCategories: []string{"candidates"}, DataCategories: []string{"contact", "documents"}, SubjectsCount: "120", RecordsCount: "480",
		AuthorityNotifiedAt: "2026-10-24T09:00", AuthorityHow: "online form, ref. 2026/77", Version: b.Version}
	err := e.k.Privacy.UpdateBreach(ctx, e.admin, b.ID, in)
	var inv *fault.Invalid
	if !errors.As(err, &inv) || inv.Fields["delay_reason"] != "error.breach_delay_reason" {
		t.Fatalf("a late notification without reasons: %v", err)
	}
	in.DelayReason = "The extent was known only on the 24th."
	in.SubjectsDecision, in.SubjectsNotifiedAt = privacy.SubjectsNotify, "2026-10-25T10:00"
	in.Status = privacy.BreachClosed
	if err := e.k.Privacy.UpdateBreach(ctx, e.admin, b.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err := e.k.Privacy.Breach(ctx, e.admin, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.NotifiedLate() || got.Overdue(e.now) || !got.AuthorityDecided() || got.Version != 2 || got.Status != privacy.BreachClosed {
		t.Fatalf("after the notification: late %v overdue %v decided %v version %d status %s", got.NotifiedLate(), got.Overdue(e.now),
			got.AuthorityDecided(), got.Version, got.Status)
	}
	recs, _, err := e.k.Audit.List(ctx, e.c.ID, audit.Filter{Track: audit.GDPR, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Action)+":"+r.Details["recipient"]]++
		for k, v := range r.Details {
			if v == "Mailbox compromised" || v == in.DelayReason || k == "title" {
				t.Fatalf("the trail holds the record's text: %s=%s", k, v)
			}
		}
		if r.Action == audit.BreachChanged && r.Details["status"] != "closed" {
			t.Fatalf("change record %v", r.Details)
		}
		if r.Action == audit.BreachNotified && r.Details["recipient"] == "authority" && r.Details["late"] != "true" {
			t.Fatalf("authority notice record %v", r.Details)
		}
	}
	for _, want := range []string{"breach.recorded:", "breach.changed:", "breach.notified:authority", "breach.notified:subjects"} {
		if seen[want] != 1 {
			t.Errorf("GDPR track: %d records %s, want 1 (all: %v)", seen[want], want, seen)
		}
	}
	// A save with nothing new records no change.
	in.Version = got.Version
	if err := e.k.Privacy.UpdateBreach(ctx, e.admin, b.ID, in); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := e.k.Audit.List(ctx, e.c.ID, audit.Filter{Track: audit.GDPR, Limit: 20}); len(again) != len(recs) {
		t.Fatalf("an unchanged save wrote %d records", len(again)-len(recs))
	}
}

// TestBreachValidation: every bad input has its message, nothing is stored.
func TestBreachValidation(t *testing.T) {
	e := newBreachEnv(t)
	ctx := context.Background()
	ok := privacy.BreachInput{Title: "T", DiscoveredAt: "2026-10-30T10:00"}
	for _, tc := range []struct {
		name  string
		edit  func(*privacy.BreachInput)
		field string
		key   string
	}{
		{"no title", func(in *privacy.BreachInput) { in.Title = "  " }, "title", "error.breach_title_required"},
		{"title with a control character", func(in *privacy.BreachInput) { in.Title = "a\x07b" }, "title", "error.text_field"},
		{"no discovery", func(in *privacy.BreachInput) { in.DiscoveredAt = "" }, "discovered_at", "error.breach_discovered_required"},
		{"not a time", func(in *privacy.BreachInput) { in.DiscoveredAt = "yesterday" }, "discovered_at", "error.breach_time"},
		{"discovered in the future", func(in *privacy.BreachInput) { in.DiscoveredAt = "2026-11-02T10:00" }, "discovered_at", "error.breach_future"},
		{"occurred after discovery", func(in *privacy.BreachInput) { in.OccurredAt = "2026-10-31T10:00" }, "occurred_at", "error.breach_occurred_after"},
		{"notified before discovery", func(in *privacy.BreachInput) { in.AuthorityNotifiedAt = "2026-10-29T10:00" }, "authority_notified_at", "error.breach_before_discovery"},
		{"unknown subject category", func(in *privacy.BreachInput) { in.SubjectCategories = []string{"candidates", "aliens"} }, "subject_categories", "error.breach_category"},
		{"unknown data category", func(in *privacy.BreachInput) { in.DataCategories = []string{"<script>"} }, "data_categories", "error.breach_category"},
		{"negative count", func(in *privacy.BreachInput) { in.SubjectsCount = "-3" }, "subjects_count", "error.breach_count"},
		{"count not a number", func(in *privacy.BreachInput) { in.RecordsCount = "many" }, "records_count", "error.breach_count"},
		{"unknown status", func(in *privacy.BreachInput) { in.Status = "forgotten" }, "status", "error.breach_status"},
		{"closed undecided", func(in *privacy.BreachInput) { in.Status = privacy.BreachClosed }, "status", "error.breach_close_undecided"},
		{"notified and reasons not to", func(in *privacy.BreachInput) {
			in.AuthorityNotifiedAt, in.AuthorityReason = "2026-10-30T12:00", "no risk"
		}, "authority_reason", "error.breach_authority_both"},
		{"not telling without reasons", func(in *privacy.BreachInput) { in.SubjectsDecision = privacy.SubjectsNotNotify }, "subjects_reason", "error.breach_subjects_reason"},
		{"told while undecided", func(in *privacy.BreachInput) { in.SubjectsNotifiedAt = "2026-10-30T12:00" }, "subjects_decision", "error.breach_subjects_undecided"},
		{"unknown decision", func(in *privacy.BreachInput) { in.SubjectsDecision = "maybe" }, "subjects_decision", "error.breach_subjects_decision"},
		{"long text", func(in *privacy.BreachInput) { in.Measures = string(make([]rune, 10001)) }, "measures", "error.breach_text"},
		{"invalid UTF-8", func(in *privacy.BreachInput) { in.Contact = string([]byte{0xff}) }, "contact", "error.breach_text_short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := e.k.Privacy.CreateBreach(ctx, e.admin, in)
			var inv *fault.Invalid
			if !errors.As(err, &inv) || inv.Fields[tc.field] != tc.key {
				t.Fatalf("got %v, want %s on %s", err, tc.key, tc.field)
			}
		})
	}
	if list, _, err := e.k.Privacy.Breaches(ctx, e.admin, "", 10); err != nil || len(list) != 0 {
		t.Fatalf("refused inputs stored %d records (%v)", len(list), err)
	}
	recruiter := e.k.Actor(t, e.c.ID, "rolf", access.Recruiter)
	if _, err := e.k.Privacy.CreateBreach(ctx, recruiter, ok); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("a recruiter recorded a breach: %v", err)
	}
	if _, _, err := e.k.Privacy.Breaches(ctx, recruiter, "", 10); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("a recruiter listed breaches: %v", err)
	}
}

// TestBreachListPages: newest discovery first, keyset pages.
func TestBreachListPages(t *testing.T) {
	e := newBreachEnv(t)
	ctx := context.Background()
	var ids []string
	for _, day := range []string{"2026-10-01", "2026-10-03", "2026-10-02"} {
		ids = append(ids, e.create(t, privacy.BreachInput{Title: "On " + day, DiscoveredAt: day + "T09:00"}).ID)
	}
	page, next, err := e.k.Privacy.Breaches(ctx, e.admin, "", 2)
	if err != nil || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] || next != ids[2] {
		t.Fatalf("first page %v next %q %v", page, next, err)
	}
	page, next, err = e.k.Privacy.Breaches(ctx, e.admin, next, 2)
	if err != nil || len(page) != 1 || page[0].ID != ids[0] || next != "" {
		t.Fatalf("second page %v next %q %v", page, next, err)
	}
	if _, _, err := e.k.Privacy.Breaches(ctx, e.admin, "NOT AN ID", 2); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("a bad cursor: %v", err)
	}
	if page, _, err := e.k.Privacy.Breaches(ctx, e.admin, "01890000-0000-7000-8000-000000000000", 2); err != nil || len(page) != 0 {
		t.Fatalf("an unknown cursor: %v %v", page, err)
	}
}

// TestBreachFromAlertOnce: an alert opens one record, however many press
// the button at once; an alert of another company opens none.
func TestBreachFromAlertOnce(t *testing.T) {
	e := newBreachEnv(t)
	ctx := context.Background()
	alerts, err := e.k.Audit.OpenAlerts(ctx, e.c.ID)
	if err != nil || len(alerts) == 0 {
		t.Fatalf("no alert to open a breach from (a new administrator raises one): %v", err)
	}
	alert := alerts[0]
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, c, err := e.k.Privacy.BreachFromAlert(ctx, e.admin, alert.ID, "Alert: new administrator")
			errs[i], created[i] = err, c
			if b != nil {
				ids[i] = b.ID
			}
		}()
	}
	wg.Wait()
	opened := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("press %d: %v", i, errs[i])
		}
		if created[i] {
			opened++
		}
		if ids[i] != ids[0] {
			t.Fatalf("presses opened different records: %v", ids)
		}
	}
	if opened != 1 {
		t.Fatalf("%d presses created a record, want 1", opened)
	}
	list, _, err := e.k.Privacy.Breaches(ctx, e.admin, "", 50)
	if err != nil || len(list) != 1 {
		t.Fatalf("%d records (%v), want 1", len(list), err)
	}
	b := list[0]
	if b.AlertID != alert.ID || !b.DiscoveredAt.Equal(alert.CreatedAt.UTC().Truncate(time.Microsecond)) || b.Title != "Alert: new administrator" {
		t.Fatalf("record from the alert: %+v (alert raised %v)", b, alert.CreatedAt)
	}
	recs, _, err := e.k.Audit.List(ctx, e.c.ID, audit.Filter{Action: audit.BreachRecorded, Limit: 20})
	if err != nil || len(recs) != 1 || recs[0].Details["via"] != "alert" {
		t.Fatalf("records of the opening: %v %v", recs, err)
	}

	other := e.k.Company(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	e.k.Actor(t, other.ID, "bodil", access.Administrator)
	theirs, err := e.k.Audit.OpenAlerts(ctx, other.ID)
	if err != nil || len(theirs) == 0 {
		t.Fatalf("company B has no alert: %v", err)
	}
	if _, _, err := e.k.Privacy.BreachFromAlert(ctx, e.admin, theirs[0].ID, "x"); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("another company's alert opened a record: %v", err)
	}
	if _, _, err := e.k.Privacy.BreachFromAlert(ctx, e.admin, "not-an-id", "x"); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("a malformed alert id: %v", err)
	}
}

// TestBreachUpdateRace: two saves of the same version at once: one wins,
// the other is told the record changed and overwrites nothing.
func TestBreachUpdateRace(t *testing.T) {
	e := newBreachEnv(t)
	ctx := context.Background()
	b := e.create(t, privacy.BreachInput{Title: "Original", DiscoveredAt: "2026-10-30T10:00"})
	titles := []string{"First writer", "Second writer", "Third writer", "Fourth writer"}
	errs := make([]error, len(titles))
	var wg sync.WaitGroup
	for i, title := range titles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.k.Privacy.UpdateBreach(ctx, e.admin, b.ID, privacy.BreachInput{Title: title, DiscoveredAt: "2026-10-30T10:00", Version: b.Version})
		}()
	}
	wg.Wait()
	won := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if won != "" {
				t.Fatalf("both %q and %q saved version %d", won, titles[i], b.Version)
			}
			won = titles[i]
		case !errors.Is(err, privacy.ErrBreachChanged) || !errors.Is(err, fault.ErrConflict):
			t.Fatalf("save %d: %v, want ErrBreachChanged", i, err)
		}
	}
	got, err := e.k.Privacy.Breach(ctx, e.admin, b.ID)
	if err != nil || won == "" || got.Title != won || got.Version != b.Version+1 {
		t.Fatalf("after the race: %q version %d (%v), winner %q", got.Title, got.Version, err, won)
	}
	if err := e.k.Privacy.UpdateBreach(ctx, e.admin, "01890000-0000-7000-8000-000000000000", privacy.BreachInput{Title: "x", DiscoveredAt: "2026-10-30T10:00"}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("an unknown record: %v", err)
	}
}
