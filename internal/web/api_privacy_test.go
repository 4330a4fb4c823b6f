package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

func TestAPIConsents(t *testing.T) {
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	app := f.apiApplicant(hr, "Carla Consent")
	cid := app.Candidate.ID
	consents := "/api/v1/candidates/" + cid + "/consents"

	res := f.call(tok, "GET", consents, nil)
	if res.StatusCode != 200 || res.json(t)["state"] != "none" || len(res.json(t)["entries"].([]any)) != 0 {
		t.Fatalf("no consent yet: %d %s", res.StatusCode, res.Body)
	}
	given := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	res = f.call(tok, "POST", consents, map[string]any{"date": given, "months": 6, "evidence": "Signed paper form, HR binder 3"})
	if res.StatusCode != 200 {
		t.Fatalf("record: %d %s", res.StatusCode, res.Body)
	}
	body := res.json(t)
	entries := body["entries"].([]any)
	if body["state"] != "granted" || body["until"] == nil || len(entries) != 1 {
		t.Fatalf("recorded consent %s", res.Body)
	}
	if e := entries[0].(map[string]any); e["event"] != "granted" || e["referral"] != "manual" || e["recorded_by"] != hr.UserID ||
		e["evidence"] != "Signed paper form, HR binder 3" || e["valid_until"] == nil {
		t.Fatalf("entry %v", e)
	}
	if recs := f.trail(f.company, audit.ConsentRecorded); len(recs) != 1 || recs[0].Actor.Kind != audit.ActorAPIToken {
		t.Fatalf("consent records %+v", recs)
	}
	// Withdrawn: the consent ends now; a second withdrawal finds none.
	res = f.call(tok, "POST", consents+"/withdraw", map[string]any{"note": "Phoned on Monday"})
	if res.StatusCode != 200 || res.json(t)["state"] != "withdrawn" || len(res.json(t)["entries"].([]any)) != 2 {
		t.Fatalf("withdraw: %d %s", res.StatusCode, res.Body)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	oApp := f.apiApplicant(f.member(other, "hr_manager"), "Otto Other")
	_, lineTok := f.token("line_manager")
	_, admin := f.token("administrator")
	future := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	runAPICases(t, f, []apiCase{
		{name: "withdraw again", token: tok, method: "POST", path: consents + "/withdraw", body: map[string]any{}, status: 409, problem: "conflict"},
		{name: "no evidence, bad date", token: tok, method: "POST", path: consents, body: map[string]any{"date": "31.01.2026", "evidence": ""},
			status: 422, problem: "validation", fields: []string{"date", "evidence"}},
		{name: "future date", token: tok, method: "POST", path: consents, body: map[string]any{"date": future, "evidence": "x"}, status: 422, problem: "validation", fields: []string{"date"}},
		{name: "months", token: tok, method: "POST", path: consents, body: map[string]any{"date": given, "months": 99, "evidence": "x"}, status: 422, problem: "validation", fields: []string{"months"}},
		{name: "unknown field", token: tok, method: "POST", path: consents, body: map[string]any{"date": given, "evidence": "x", "email": "a@b.c"}, status: 422, problem: "unknown-field"},
		{name: "line manager, not shared", token: lineTok, method: "GET", path: consents, status: 404, problem: "not-found"},
		{name: "line manager records", token: lineTok, method: "POST", path: consents, body: map[string]any{"date": given, "evidence": "x"}, status: 403, problem: "forbidden"},
		{name: "privacy.settings sees every candidate", token: admin, method: "GET", path: consents, status: 200},
		{name: "other company's candidate", token: tok, method: "GET", path: "/api/v1/candidates/" + oApp.Candidate.ID + "/consents", status: 404, problem: "not-found"},
		{name: "other company's candidate, record", token: admin, method: "POST", path: "/api/v1/candidates/" + oApp.Candidate.ID + "/consents",
			body: map[string]any{"date": given, "evidence": "x"}, status: 404, problem: "not-found"},
		{name: "malformed id", token: tok, method: "GET", path: "/api/v1/candidates/x/consents", status: 404, problem: "not-found"},
	})
}

func TestAPIExportAndErase(t *testing.T) {
	f := newAPIFixture(t)
	hr, tok := f.token("hr_manager")
	app := f.apiApplicant(hr, "Erik Erase")
	cid := app.Candidate.ID
	if _, err := f.recruit.AddDocument(context.Background(), hr, app.ID, recruit.DocumentUpload{Name: "erik.pdf", Data: strings.NewReader(apiTestPDF)}); err != nil {
		t.Fatal(err)
	}
	res := f.call(tok, "GET", "/api/v1/candidates/"+cid+"/export", nil)
	if res.StatusCode != 200 {
		t.Fatalf("export: %d %s", res.StatusCode, res.Body)
	}
	data := res.json(t)
	cand := data["candidate"].(map[string]any)
	if data["format"] != "kandidat-subject-export/1" || cand["email"] != "erik.erase@example.com" || len(data["applications"].([]any)) != 1 ||
		len(data["documents"].([]any)) != 1 {
		t.Fatalf("export %s", res.Body)
	}
	exported := f.trail(f.company, audit.CandidateExported)
	if len(exported) != 1 || exported[0].Details["via"] != "staff" || exported[0].Details["files"] != "1" || exported[0].Actor.Kind != audit.ActorAPIToken {
		t.Fatalf("export records %+v", exported)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	oApp := f.apiApplicant(f.member(other, "hr_manager"), "Otto Other")
	_, recTok := f.token("recruiter")
	_, admin := f.token("administrator")
	_, noErase := f.token("hr_manager", access.ViewPositions, access.ViewApplications, access.AllPositions)
	erase := "/api/v1/candidates/" + cid + "/erase"
	runAPICases(t, f, []apiCase{
		{name: "export by a recruiter", token: recTok, method: "GET", path: "/api/v1/candidates/" + cid + "/export", status: 403, problem: "forbidden"},
		{name: "export by the privacy contact", token: admin, method: "GET", path: "/api/v1/candidates/" + cid + "/export", status: 200},
		{name: "export of another company's", token: tok, method: "GET", path: "/api/v1/candidates/" + oApp.Candidate.ID + "/export", status: 404, problem: "not-found"},
		{name: "erase unconfirmed", token: tok, method: "POST", path: erase, body: map[string]any{"confirm": false}, status: 422, problem: "validation", fields: []string{"confirm"}},
		{name: "erase without body", token: tok, method: "POST", path: erase, body: map[string]any{}, status: 422, problem: "validation", fields: []string{"confirm"}},
		{name: "erase, confirm as text", token: tok, method: "POST", path: erase, body: `{"confirm":"yes"}`, status: 422, problem: "wrong-type"},
		{name: "erase out of scope", token: noErase, method: "POST", path: erase, body: map[string]any{"confirm": true}, status: 403, problem: "insufficient-scope"},
		{name: "erase another company's", token: tok, method: "POST", path: "/api/v1/candidates/" + oApp.Candidate.ID + "/erase", body: map[string]any{"confirm": true}, status: 404, problem: "not-found"},
		{name: "erase a malformed id", token: tok, method: "POST", path: "/api/v1/candidates/nope/erase", body: map[string]any{"confirm": true}, status: 404, problem: "not-found"},
		{name: "erase", token: tok, method: "POST", path: erase, body: map[string]any{"confirm": true}, status: 204},
		{name: "erase again", token: tok, method: "POST", path: erase, body: map[string]any{"confirm": true}, status: 404, problem: "not-found"},
		{name: "export of an erased candidate", token: tok, method: "GET", path: "/api/v1/candidates/" + cid + "/export", status: 404, problem: "not-found"},
	})
	erased := f.trail(f.company, audit.CandidateErased)
	if len(erased) != 1 || erased[0].Details["reason"] != "manual" || erased[0].Actor.Kind != audit.ActorAPIToken {
		t.Fatalf("erasure records %+v", erased)
	}
	if _, err := f.recruit.Application(context.Background(), hr, app.ID); err == nil {
		t.Fatal("the erased candidate's application is still there")
	}
	if _, err := f.recruit.Application(context.Background(), f.member(other, "hr_manager"), oApp.ID); err != nil {
		t.Fatalf("the other company's candidate: %v", err)
	}
}
