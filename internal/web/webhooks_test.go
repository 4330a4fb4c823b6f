package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
)

// TestWebhookPages walks the settings pages: create (the secret shown
// once), list, edit, rotate, the delivery log with a replay, delete; the
// pages need api.tokens and the api module.
func TestWebhookPages(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	admin := f.user("hook-admin", false)
	tok := f.signIn("hook-admin", testPassword)
	// The module is off: the pages do not exist.
	if res := f.do(request{method: "GET", path: "/settings/webhooks", cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("without the api module: %d, want 404", res.StatusCode)
	}
	if err := f.tenants.SetModules(ctx, audit.Operator, f.company.ID, append(slices.Clone(f.company.Modules), tenant.API)); err != nil {
		t.Fatal(err)
	}
	// A receiver on this machine: the service here may reach it (the
	// operator's allowance), as in development.
	var hits atomic.Int32
	status := atomic.Int32{}
	status.Store(http.StatusServiceUnavailable)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer rec.Close()
	svc := webhook.NewService(f.db, webhook.Options{Audit: f.audit, Keys: f.kit.Keys, AllowPrivate: true})
	f.srv.Webhooks = svc
	f.h = f.srv.Handler()

	body := func(res *http.Response) string { return body(t, res) }
	res := f.do(request{method: "GET", path: "/settings/webhooks", cookie: tok})
	if b := body(res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="webhook-empty"`) || !strings.Contains(b, `id="nav-webhooks"`) {
		t.Fatalf("empty list: %d\n%s", res.StatusCode, b)
	}
	// A refused form keeps what was typed and says why.
	res = f.do(request{method: "POST", path: "/settings/webhooks", cookie: tok, form: url.Values{"url": {"ftp://files.example/in"}, "events": {webhook.ApplicationCreated}}})
	if b := body(res); res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "ftp://files.example/in") || !strings.Contains(b, `id="url-error"`) {
		t.Fatalf("refused create: %d\n%s", res.StatusCode, b)
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks", cookie: tok, form: url.Values{"url": {rec.URL + "/in"}, "description": {"Payroll"},
		"events": {webhook.ApplicationCreated, webhook.ApplicationStageChanged}, "active": {"1"}}})
	b := body(res)
	secret := regexp.MustCompile(`id="webhook-secret-value">(whsec_[A-Za-z0-9_-]+)<`).FindStringSubmatch(b)
	if res.StatusCode != http.StatusOK || secret == nil {
		t.Fatalf("create: %d\n%s", res.StatusCode, b)
	}
	subs, err := svc.Subscriptions(ctx, access.Operator(f.company.ID, access.ManageAPITokens))
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions: %v %v", subs, err)
	}
	sub := subs[0]
	// The secret is not shown again.
	res = f.do(request{method: "GET", path: "/settings/webhooks/" + sub.ID, cookie: tok})
	if b := body(res); res.StatusCode != http.StatusOK || strings.Contains(b, secret[1]) || !strings.Contains(b, "Payroll") || !strings.Contains(b, `id="webhook-log-empty"`) {
		t.Fatalf("edit page: %d\n%s", res.StatusCode, b)
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks/" + sub.ID, cookie: tok, form: url.Values{"url": {rec.URL + "/v2"}, "description": {"Payroll"},
		"events": {webhook.ApplicationCreated}, "active": {"1"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if s, _ := svc.Subscription(ctx, access.Operator(f.company.ID, access.ManageAPITokens), sub.ID); s.URL != rec.URL+"/v2" || len(s.Events) != 1 {
		t.Fatalf("saved: %+v", s)
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks/" + sub.ID, cookie: tok, form: url.Values{"url": {"https://user:pw@hr.example/x"},
		"events": {webhook.CandidateErased}}})
	if b := body(res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="url-error"`) || !strings.Contains(b, "user:pw@hr.example") ||
		!regexp.MustCompile(`value="candidate.erased" checked`).MatchString(b) || regexp.MustCompile(`name="active" value="1" checked`).MatchString(b) {
		t.Fatalf("refused save: %d\n%s", res.StatusCode, b)
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks/" + sub.ID + "/rotate", cookie: tok})
	if b := body(res); res.StatusCode != http.StatusOK || !strings.Contains(b, `id="webhook-secret-value">whsec_`) || strings.Contains(b, secret[1]) {
		t.Fatalf("rotate: %d\n%s", res.StatusCode, b)
	}

	// An event, a failed attempt, then a replay from the log.
	all := access.Actor{TenantID: f.company.ID, UserID: admin.ID, Perms: access.Decode(strings.Join(access.Names(), ","))}
	pos, err := f.recruit.CreatePosition(ctx, all, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.recruit.AddCandidate(ctx, all, pos.ID, recruit.CandidateInput{Name: "Hook Candidate", Email: "hook@example.org"}, access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.EnqueueCompany(ctx, f.company.ID); err != nil || n != 1 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	if _, err := svc.Deliver(ctx, 10); err != nil || hits.Load() != 1 {
		t.Fatalf("deliver: %v, %d hits", err, hits.Load())
	}
	ds, _, _ := svc.Deliveries(ctx, access.Operator(f.company.ID, access.ManageAPITokens), sub.ID, webhook.Page{})
	res = f.do(request{method: "GET", path: "/settings/webhooks/" + sub.ID, cookie: tok})
	if b := body(res); !strings.Contains(b, `id="delivery-`+ds[0].ID+`"`) || !strings.Contains(b, "503") || strings.Contains(b, "/deliveries/"+ds[0].ID+"/replay") {
		t.Fatalf("log with a waiting delivery (no replay button):\n%s", b)
	}
	// A waiting delivery is not replayed; a delivered one is.
	if res := f.do(request{method: "POST", path: "/settings/webhooks/deliveries/" + ds[0].ID + "/replay", cookie: tok}); res.StatusCode != http.StatusConflict {
		t.Fatalf("replay of a waiting delivery: %d, want 409", res.StatusCode)
	}
	status.Store(http.StatusOK)
	if _, err := svc.Replay(ctx, access.Operator(f.company.ID, access.ManageAPITokens), ds[0].ID); err == nil {
		t.Fatal("the service replayed a waiting delivery")
	}
	svc.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
	if sent, err := svc.Deliver(ctx, 10); err != nil || sent != 1 {
		t.Fatalf("retry: %d %v", sent, err)
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks/deliveries/" + ds[0].ID + "/replay", cookie: tok})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/webhooks/"+sub.ID+"?replayed=1" {
		t.Fatalf("replay: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if sent, err := svc.Deliver(ctx, 10); err != nil || sent != 1 || hits.Load() != 3 {
		t.Fatalf("replayed: %d %v, %d hits", sent, err, hits.Load())
	}

	// Without api.tokens the pages are refused.
	if _, err := f.accounts.CreateUser(ctx, access.Operator(f.company.ID), account.CreateUserInput{Login: "rita-recruiter", DisplayName: "Rita",
		Password: testPassword, Role: access.Recruiter}); err != nil {
		t.Fatal(err)
	}
	rtok := f.signIn("rita-recruiter", testPassword)
	for _, r := range []request{{method: "GET", path: "/settings/webhooks"}, {method: "GET", path: "/settings/webhooks/" + sub.ID},
		{method: "POST", path: "/settings/webhooks/" + sub.ID + "/delete", form: url.Values{}}} {
		r.cookie = rtok
		if res := f.do(r); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as a recruiter: %d", r.method, r.path, res.StatusCode)
		}
	}
	res = f.do(request{method: "POST", path: "/settings/webhooks/" + sub.ID + "/delete", cookie: tok, form: url.Values{}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/settings/webhooks/" + sub.ID, cookie: tok}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted webhook: %d", res.StatusCode)
	}
}
