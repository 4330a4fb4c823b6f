package web

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestAPIAudit(t *testing.T) {
	f := newAPIFixture(t)
	adminActor, admin := f.token("administrator")
	hr, hrTok := f.token("hr_manager")
	f.apiApplicant(hr, "Aud Itor") // a position and an application on the history track

	// Every record of the company, newest first, page by page.
	seen := map[string]bool{}
	path, pages, last := "/api/v1/audit?limit=2", 0, time.Now().Add(time.Hour)
	for path != "" && pages < 50 {
		res := f.call(admin, "GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		body := res.json(t)
		for _, r := range body["data"].([]any) {
			rec := r.(map[string]any)
			at, _ := time.Parse(time.RFC3339Nano, rec["time"].(string))
			if at.After(last) {
				t.Fatalf("records out of order: %v after %v", at, last)
			}
			last = at
			key := rec["track"].(string) + rec["id"].(string)
			if seen[key] {
				t.Fatalf("record %s twice", key)
			}
			seen[key] = true
		}
		pages++
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/api/v1/audit?limit=2&cursor=" + url.QueryEscape(next)
		}
	}
	if pages < 3 || len(seen) < 5 {
		t.Fatalf("%d records in %d pages", len(seen), pages)
	}
	// Each page read is recorded as an export, with the token as the actor.
	reads := f.trail(f.company, audit.AuditExported)
	if len(reads) < pages || reads[0].Actor.Kind != audit.ActorAPIToken || reads[0].Details["format"] != "json" {
		t.Fatalf("%d reads recorded for %d pages: %+v", len(reads), pages, reads)
	}

	// Filters.
	for _, c := range []struct{ query, track, action string }{
		{"track=history", "history", ""},
		{"action=position.created", "history", "position.created"},
		{"action=api_token.created&track=security", "security", "api_token.created"},
		{"actor=" + hr.UserID, "", ""},
	} {
		res := f.call(admin, "GET", "/api/v1/audit?"+c.query, nil)
		data, _ := res.json(t)["data"].([]any)
		if res.StatusCode != 200 || len(data) == 0 {
			t.Fatalf("%s: %d %s", c.query, res.StatusCode, res.Body)
		}
		for _, r := range data {
			rec := r.(map[string]any)
			if c.track != "" && rec["track"] != c.track || c.action != "" && rec["action"] != c.action {
				t.Fatalf("%s gave %v", c.query, rec)
			}
			if c.query == "actor="+hr.UserID && rec["actor"].(map[string]any)["id"] != hr.UserID {
				t.Fatalf("%s gave %v", c.query, rec)
			}
		}
	}
	// An object's records, by kind:id.
	recs, _, err := f.audit.List(context.Background(), f.company.ID, audit.Filter{Action: audit.PositionCreated})
	if err != nil || len(recs) == 0 {
		t.Fatal(recs, err)
	}
	pos := recs[0].Objects[0]
	res := f.call(admin, "GET", "/api/v1/audit?object="+pos.Kind+":"+pos.ID, nil)
	if data := res.json(t)["data"].([]any); res.StatusCode != 200 || len(data) == 0 {
		t.Fatalf("object filter: %d %s", res.StatusCode, res.Body)
	}
	// A range that holds nothing.
	res = f.call(admin, "GET", "/api/v1/audit?to=2000-01-01", nil)
	if res.StatusCode != 200 || len(res.json(t)["data"].([]any)) != 0 {
		t.Fatalf("before 2000: %d %s", res.StatusCode, res.Body)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	f.enableAPI(other)
	_, otherAdmin := f.tokenIn(other, "administrator")
	_, noAudit := f.token("administrator", access.ManageUsers)
	runAPICases(t, f, []apiCase{
		{name: "unknown track", token: admin, method: "GET", path: "/api/v1/audit?track=diary", status: 422, problem: "validation", fields: []string{"track"}},
		{name: "unknown action", token: admin, method: "GET", path: "/api/v1/audit?action=nothing.done", status: 422, problem: "validation", fields: []string{"action"}},
		{name: "bad time", token: admin, method: "GET", path: "/api/v1/audit?from=yesterday&to=31.12.2030", status: 422, problem: "validation", fields: []string{"from", "to"}},
		{name: "empty range", token: admin, method: "GET", path: "/api/v1/audit?from=2030-01-02&to=2030-01-01", status: 422, problem: "validation", fields: []string{"to"}},
		{name: "forged cursor", token: admin, method: "GET", path: "/api/v1/audit?cursor=MTcwMDAwMDAwMC5oaXN0b3J5LjE.x", status: 400, problem: "invalid-cursor"},
		{name: "no audit.view in the role", token: hrTok, method: "GET", path: "/api/v1/audit", status: 403, problem: "insufficient-scope"},
		{name: "scope not given", token: noAudit, method: "GET", path: "/api/v1/audit", status: 403, problem: "insufficient-scope"},
	})
	// Another company's administrator reads only their own trail.
	res = f.call(otherAdmin, "GET", "/api/v1/audit?actor="+adminActor.UserID, nil)
	if res.StatusCode != 200 || len(res.json(t)["data"].([]any)) != 0 {
		t.Fatalf("another company's trail: %d %s", res.StatusCode, res.Body)
	}
	res = f.call(otherAdmin, "GET", "/api/v1/audit?object="+pos.Kind+":"+pos.ID, nil)
	if res.StatusCode != 200 || len(res.json(t)["data"].([]any)) != 0 {
		t.Fatalf("another company's object: %d %s", res.StatusCode, res.Body)
	}
}
