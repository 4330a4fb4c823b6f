package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
)

const apiHookURL = "https://93.184.215.14/hooks/kandidat"

func TestAPIWebhooks(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	_, tok := f.token("administrator")
	hr, hrTok := f.token("hr_manager")

	// Create: the secret is in this answer only.
	res := f.call(tok, "POST", "/api/v1/webhooks", map[string]any{"url": apiHookURL, "description": "ERP", "events": []string{"application.created"}})
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	created := res.json(t)
	secret, _ := created["secret"].(string)
	hook := created["webhook"].(map[string]any)
	id := hook["id"].(string)
	if !strings.HasPrefix(secret, "whsec_") || hook["active"] != true || res.Header.Get("Location") != "/api/v1/webhooks/"+id {
		t.Fatalf("created %v %s", res.Header, res.Body)
	}
	res = f.call(tok, "GET", "/api/v1/webhooks", nil)
	if res.StatusCode != 200 || !strings.Contains(string(res.Body), id) || strings.Contains(string(res.Body), secret) {
		t.Fatalf("list: %d %s", res.StatusCode, res.Body)
	}
	res = f.call(tok, "GET", "/api/v1/webhooks/"+id, nil)
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" || strings.Contains(string(res.Body), secret) || res.json(t)["description"] != "ERP" {
		t.Fatalf("get: %d %v %s", res.StatusCode, res.Header, res.Body)
	}
	// Change: If-Match is required and must be current.
	patch := map[string]any{"events": []string{"application.created", "candidate.erased"}, "active": false}
	if res := f.call(tok, "PATCH", "/api/v1/webhooks/"+id, patch); res.StatusCode != 428 {
		t.Fatalf("no If-Match: %d", res.StatusCode)
	}
	if res := f.call(tok, "PATCH", "/api/v1/webhooks/"+id, patch, "If-Match", `"1"`); res.StatusCode != 412 {
		t.Fatalf("stale If-Match: %d %s", res.StatusCode, res.Body)
	}
	res = f.call(tok, "PATCH", "/api/v1/webhooks/"+id, patch, "If-Match", etag)
	if res.StatusCode != 200 || res.json(t)["active"] != false || len(res.json(t)["events"].([]any)) != 2 || res.json(t)["description"] != "ERP" ||
		res.Header.Get("ETag") == etag {
		t.Fatalf("update: %d %v %s", res.StatusCode, res.Header, res.Body)
	}
	if res := f.call(tok, "PATCH", "/api/v1/webhooks/"+id, map[string]any{"description": "x"}, "If-Match", etag); res.StatusCode != 412 {
		t.Fatalf("update from the old version: %d", res.StatusCode)
	}
	etag = res.Header.Get("ETag")
	if res := f.call(tok, "PATCH", "/api/v1/webhooks/"+id, map[string]any{"active": true}, "If-Match", etag); res.StatusCode != 200 {
		t.Fatalf("reactivate: %d %s", res.StatusCode, res.Body)
	}
	// Rotate: a new secret, shown once.
	res = f.call(tok, "POST", "/api/v1/webhooks/"+id+"/rotate-secret", nil)
	if rotated, _ := res.json(t)["secret"].(string); res.StatusCode != 200 || !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
		t.Fatalf("rotate: %d %s", res.StatusCode, res.Body)
	}

	// An application makes a delivery; its log pages.
	f.apiApplicant(hr, "Hook Applicant")
	f.apiApplicant(hr, "Hook Applicant Two")
	if n, err := f.srv.Webhooks.EnqueueCompany(ctx, f.company.ID); err != nil || n != 2 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	var deliveries []string
	for path := "/api/v1/webhooks/" + id + "/deliveries?limit=1"; path != ""; {
		res := f.call(tok, "GET", path, nil)
		if res.StatusCode != 200 || strings.Contains(string(res.Body), "Hook Applicant") {
			t.Fatalf("deliveries: %d %s", res.StatusCode, res.Body)
		}
		body := res.json(t)
		for _, d := range body["data"].([]any) {
			m := d.(map[string]any)
			if m["status"] != "pending" || m["event_type"] != "application.created" {
				t.Fatalf("delivery %v", m)
			}
			deliveries = append(deliveries, m["id"].(string))
		}
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/api/v1/webhooks/" + id + "/deliveries?limit=1&cursor=" + url.QueryEscape(next)
		}
	}
	if len(deliveries) != 2 {
		t.Fatalf("deliveries %v", deliveries)
	}
	// A pending delivery is on its way; a failed one is sent again.
	replay := "/api/v1/webhooks/deliveries/" + deliveries[0] + "/replay"
	if res := f.call(tok, "POST", replay, nil); res.StatusCode != 409 || res.problem(t) != "conflict" {
		t.Fatalf("replay of a pending delivery: %d %s", res.StatusCode, res.Body)
	}
	if err := f.db.InTx(ctx, f.company.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', attempts = 8, next_try_at = NULL WHERE tenant_id = $1 AND id = $2`,
			f.company.ID, deliveries[0])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res = f.call(tok, "POST", replay, nil)
	if res.StatusCode != 200 || res.json(t)["status"] != "pending" || res.json(t)["attempts"] != float64(0) {
		t.Fatalf("replay: %d %s", res.StatusCode, res.Body)
	}

	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other Ltd"})
	oHook, _, err := f.srv.Webhooks.Subscribe(ctx, f.member(other, "administrator"), webhook.Input{URL: apiHookURL, Events: []string{"candidate.erased"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	runAPICases(t, f, []apiCase{
		{name: "loopback", token: tok, method: "POST", path: "/api/v1/webhooks", body: map[string]any{"url": "https://127.0.0.1/x", "events": []string{"candidate.erased"}},
			status: 422, problem: "validation", fields: []string{"url"}},
		{name: "plain http", token: tok, method: "POST", path: "/api/v1/webhooks", body: map[string]any{"url": "http://93.184.215.14/x", "events": []string{"candidate.erased"}},
			status: 422, problem: "validation", fields: []string{"url"}},
		{name: "no events", token: tok, method: "POST", path: "/api/v1/webhooks", body: map[string]any{"url": apiHookURL, "events": []string{}},
			status: 422, problem: "validation", fields: []string{"events"}},
		{name: "unknown event", token: tok, method: "POST", path: "/api/v1/webhooks", body: map[string]any{"url": apiHookURL, "events": []string{"user.hired"}},
			status: 422, problem: "validation", fields: []string{"events"}},
		{name: "patch to a private address", token: tok, method: "PATCH", path: "/api/v1/webhooks/" + id, body: map[string]any{"url": "https://10.0.0.1/x"},
			header: []string{"If-Match", `"1"`}, status: 422, problem: "validation", fields: []string{"url"}},
		{name: "without api.tokens", token: hrTok, method: "GET", path: "/api/v1/webhooks", status: 403, problem: "insufficient-scope"},
		{name: "create without api.tokens", token: hrTok, method: "POST", path: "/api/v1/webhooks", body: map[string]any{"url": apiHookURL, "events": []string{"candidate.erased"}},
			status: 403, problem: "insufficient-scope"},
		{name: "another company's", token: tok, method: "GET", path: "/api/v1/webhooks/" + oHook.ID, status: 404, problem: "not-found"},
		{name: "patch another company's", token: tok, method: "PATCH", path: "/api/v1/webhooks/" + oHook.ID, body: map[string]any{"active": false},
			header: []string{"If-Match", etagOf(oHook.UpdatedAt)}, status: 404, problem: "not-found"},
		{name: "rotate another company's", token: tok, method: "POST", path: "/api/v1/webhooks/" + oHook.ID + "/rotate-secret", status: 404, problem: "not-found"},
		{name: "delete another company's", token: tok, method: "DELETE", path: "/api/v1/webhooks/" + oHook.ID, status: 404, problem: "not-found"},
		{name: "another company's log", token: tok, method: "GET", path: "/api/v1/webhooks/" + oHook.ID + "/deliveries", status: 404, problem: "not-found"},
		{name: "malformed delivery", token: tok, method: "POST", path: "/api/v1/webhooks/deliveries/x/replay", status: 404, problem: "not-found"},
		{name: "delete", token: tok, method: "DELETE", path: "/api/v1/webhooks/" + id, status: 204},
		{name: "gone", token: tok, method: "GET", path: "/api/v1/webhooks/" + id, status: 404, problem: "not-found"},
		{name: "its deliveries went with it", token: tok, method: "POST", path: replay, status: 404, problem: "not-found"},
	})
	if h, err := f.srv.Webhooks.Subscription(ctx, f.member(other, "administrator"), oHook.ID); err != nil || !h.Active {
		t.Fatalf("the other company's webhook: %+v %v", h, err)
	}
}

// TestAPIWebhookConcurrentUpdates: of changes racing from one ETag,
// exactly one wins; the others get 412.
func TestAPIWebhookConcurrentUpdates(t *testing.T) {
	f := newAPIFixture(t)
	_, tok := f.token("administrator")
	res := f.call(tok, "POST", "/api/v1/webhooks", map[string]any{"url": apiHookURL, "events": []string{"candidate.erased"}})
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	id := res.json(t)["webhook"].(map[string]any)["id"].(string)
	etag := f.call(tok, "GET", "/api/v1/webhooks/"+id, nil).Header.Get("ETag")
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- f.call(tok, "PATCH", "/api/v1/webhooks/"+id, map[string]any{"description": fmt.Sprint("change ", i)}, "If-Match", etag).StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d changes won from one version, want 1", won)
	}
	if recs := f.trail(f.company, "webhook.changed"); len(recs) != 1 {
		t.Fatalf("%d change records, want 1", len(recs))
	}
}
