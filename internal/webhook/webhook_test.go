package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// env is one company with an administrator (webhooks), a colleague with
// every right (recruitment, erasure), a position, and a service that may
// deliver to this machine (httptest receivers listen on 127.0.0.1).
type env struct {
	t       *testing.T
	kit     *testkit.Kit
	svc     *Service
	company *tenant.Tenant
	admin   access.Actor
	all     access.Actor
	pos     *recruit.Position
	clock   *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	e := &env{t: t, kit: k, clock: &clock{now: db.Now()}}
	e.company = k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME", Modules: []tenant.Module{tenant.Recruitment, tenant.API}})
	e.admin = k.Actor(t, e.company.ID, "admin-user", access.Administrator)
	e.all = k.Actor(t, e.company.ID, "hr-manager", access.HRManager)
	e.all.Perms = access.Decode(strings.Join(access.Names(), ","))
	e.svc = e.service(true)
	var err error
	if e.pos, err = k.Recruit.CreatePosition(context.Background(), e.all, recruit.PositionInput{Title: "Welder", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// service is another instance over the same database and clock.
func (e *env) service(allowPrivate bool) *Service {
	s := NewService(e.kit.DB, Options{Audit: e.kit.Audit, Keys: e.kit.Keys, AllowPrivate: allowPrivate,
		LookupIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "hooks.example.com":
				return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
			case "localhost", "rebind.example.com":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			case "mixed.example.com":
				return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.1.2.3")}, nil
			}
			return nil, errors.New("no such host")
		}})
	s.SetClock(e.clock.Now)
	return s
}

func (e *env) subscribe(url string, events ...string) (*Subscription, string) {
	e.t.Helper()
	sub, secret, err := e.svc.Subscribe(context.Background(), e.admin, Input{URL: url, Events: events, Active: true})
	if err != nil {
		e.t.Fatalf("subscribe %s: %v", url, err)
	}
	return sub, secret
}

// apply adds a candidate to the position at the stage.
func (e *env) apply(name, email string) *recruit.Application {
	e.t.Helper()
	app, err := e.kit.Recruit.AddCandidate(context.Background(), e.all, e.pos.ID, recruit.CandidateInput{Name: name, Email: email}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		e.t.Fatal(err)
	}
	return app
}

func (e *env) deliveries(subID string) []*Delivery {
	e.t.Helper()
	var out []*Delivery
	after := ""
	for {
		page, next, err := e.svc.Deliveries(context.Background(), e.admin, subID, Page{After: after, Limit: 7})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		after = next
	}
}

// receiver records what it is sent and answers with the status its
// function returns.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status func(n int) int
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
		w.Write([]byte(strings.Repeat("x", 100<<10))) // longer than what is read
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func ok200(int) int { return http.StatusOK }

// verify checks a delivery's signature as a receiver would, written apart
// from Sign: the header's parts, the HMAC over "<t>.<body>" compared in
// constant time, and the timestamp within the replay window of now.
func verify(secret string, header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp")
	}
	want, err := hex.DecodeString(sig)
	if err != nil || len(want) != sha256.Size {
		return errors.New("no signature")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	if !hmac.Equal(mac.Sum(nil), want) {
		return errors.New("signature mismatch")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside the replay window")
	}
	return nil
}

func TestPublicAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.255.255.254", "::1", // loopback
		"10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", // RFC 1918
		"fc00::1", "fd12:3456::1", // ULA
		"169.254.1.1", "fe80::1", // link-local
		"169.254.169.254", "fd00:ec2::254", // metadata
		"100.64.0.1", "100.127.255.254", "100.100.100.200", // CGNAT
		"0.0.0.0", "::", "0.1.2.3", // unspecified, "this network"
		"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2", // multicast
		"255.255.255.255", "240.0.0.1", // broadcast, reserved
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
		"64:ff9b::7f00:1", "2002:7f00:1::1", "2002:a00:1::1", // NAT64 and 6to4 of private ones
		"192.0.2.1", "198.18.0.1", "2001:db8::1", // documentation, benchmarking
	}
	for _, s := range refused {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("Public(%s) = true, want false", s)
		}
		if err := control("tcp", netip.AddrPortFrom(netip.MustParseAddr(s), 443).String(), nil); !errors.Is(err, errRefusedAddress) {
			t.Errorf("dial %s: %v, want refused", s, err)
		}
	}
	for _, s := range []string{"93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14", "64:ff9b::808:808"} {
		if !Public(netip.MustParseAddr(s)) {
			t.Errorf("Public(%s) = false, want true", s)
		}
		if err := control("tcp", netip.AddrPortFrom(netip.MustParseAddr(s), 443).String(), nil); err != nil {
			t.Errorf("dial %s: %v, want allowed", s, err)
		}
	}
}

func TestSubscriptionsValidatePermitAndIsolate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	strict := e.service(false)
	cases := []struct {
		url, field, key string
		events          []string
	}{
		{"http://hooks.example.com/in", "url", "webhook.error.https", nil},
		{"https://127.0.0.1/in", "url", "webhook.error.private_address", nil},
		{"https://[::1]:8443/in", "url", "webhook.error.private_address", nil},
		{"https://169.254.169.254/latest/meta-data", "url", "webhook.error.private_address", nil},
		{"https://[::ffff:10.0.0.1]/in", "url", "webhook.error.private_address", nil},
		{"https://localhost/in", "url", "webhook.error.private_address", nil},
		{"https://mixed.example.com/in", "url", "webhook.error.private_address", nil},
		{"https://nowhere.example.com/in", "url", "webhook.error.unresolvable", nil},
		{"https://user:pw@hooks.example.com/in", "url", "webhook.error.url", nil},
		{"hooks.example.com/in", "url", "webhook.error.url", nil},
		{"", "url", "webhook.error.url", nil},
		{"https://hooks.example.com/in", "events", "webhook.error.events", []string{}},
		{"https://hooks.example.com/in", "events", "webhook.error.events", []string{"application.created", "application.exploded"}},
	}
	for _, c := range cases {
		events := c.events
		if events == nil {
			events = []string{ApplicationCreated}
		}
		_, _, err := strict.Subscribe(ctx, e.admin, Input{URL: c.url, Events: events, Active: true})
		if got := fault.Messages(err)[c.field]; got != c.key {
			t.Errorf("subscribe %q %v: %v (%q), want %s on %s", c.url, events, err, got, c.key, c.field)
		}
	}
	sub, secret, err := strict.Subscribe(ctx, e.admin, Input{URL: " https://hooks.example.com/in ", Description: "HR system",
		Events: []string{CandidateErased, ApplicationCreated, CandidateErased}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	if sub.URL != "https://hooks.example.com/in" || !slices.Equal(sub.Events, []string{ApplicationCreated, CandidateErased}) {
		t.Fatalf("subscription %+v", sub)
	}
	// The secret is stored encrypted, bound to its row.
	var sealed []byte
	if err := e.kit.DB.ReadTx(ctx, e.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT secret FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2`, e.company.ID, sub.ID).Scan(&sealed)
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) || len(sealed) == 0 {
		t.Fatal("the secret is stored in clear")
	}
	if _, err := e.kit.Keys.Decrypt(ctx, e.company.ID, secretField("another-row"), sealed); err == nil {
		t.Fatal("the secret's ciphertext opens for another row")
	}

	// Only api.tokens manages webhooks.
	recruiter := e.kit.Actor(t, e.company.ID, "rita-recruiter", access.Recruiter)
	if _, _, err := e.svc.Subscribe(ctx, recruiter, Input{URL: "https://hooks.example.com/x", Events: []string{ApplicationCreated}}); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("recruiter subscribes: %v", err)
	}
	if _, err := e.svc.Subscriptions(ctx, recruiter); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("recruiter lists: %v", err)
	}
	if err := e.svc.Delete(ctx, recruiter, sub.ID); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("recruiter deletes: %v", err)
	}

	// Update, rotate, list.
	upd, err := strict.Update(ctx, e.admin, sub.ID, Input{URL: "https://hooks.example.com/v2", Description: "HR system", Events: []string{ConsentExpiring}, Active: false})
	if err != nil || upd.URL != "https://hooks.example.com/v2" || upd.Active || !slices.Equal(upd.Events, []string{ConsentExpiring}) {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if _, err := strict.Update(ctx, e.admin, sub.ID, Input{URL: "https://10.0.0.8/", Events: []string{ConsentExpiring}}); fault.Messages(err)["url"] != "webhook.error.private_address" {
		t.Fatalf("update to a private address: %v", err)
	}
	rotated, err := e.svc.RotateSecret(ctx, e.admin, sub.ID)
	if err != nil || rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
		t.Fatalf("rotate: %q %v", rotated, err)
	}
	list, err := e.svc.Subscriptions(ctx, e.admin)
	if err != nil || len(list) != 1 || list[0].ID != sub.ID || list[0].Description != "HR system" {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Another company's administrator finds nothing of it.
	other := e.kit.Company(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	bAdmin := e.kit.Actor(t, other.ID, "beta-admin", access.Administrator)
	if l, err := e.svc.Subscriptions(ctx, bAdmin); err != nil || len(l) != 0 {
		t.Fatalf("company B lists %v %v", l, err)
	}
	for name, err := range map[string]error{
		"get": func() error { _, err := e.svc.Subscription(ctx, bAdmin, sub.ID); return err }(),
		"update": func() error {
			_, err := strict.Update(ctx, bAdmin, sub.ID, Input{URL: "https://hooks.example.com/b", Events: []string{ApplicationCreated}})
			return err
		}(),
		"rotate":     func() error { _, err := e.svc.RotateSecret(ctx, bAdmin, sub.ID); return err }(),
		"deliveries": func() error { _, _, err := e.svc.Deliveries(ctx, bAdmin, sub.ID, Page{}); return err }(),
		"delete":     e.svc.Delete(ctx, bAdmin, sub.ID),
		"malformed":  e.svc.Delete(ctx, e.admin, "not-an-id"),
	} {
		if !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("%s as company B: %v, want not found", name, err)
		}
	}
	if err := e.svc.Delete(ctx, e.admin, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscription(ctx, e.admin, sub.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("deleted subscription: %v", err)
	}
	// The trail has each change, naming the subscription and never its URL.
	recs, _, err := e.kit.Audit.List(ctx, e.company.ID, audit.Filter{Track: audit.Admin, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var actions []audit.Action
	for _, r := range recs {
		if strings.HasPrefix(string(r.Action), "webhook.") {
			actions = append(actions, r.Action)
		}
		for _, v := range r.Details {
			if strings.Contains(v, "example.com") {
				t.Errorf("audit record %s holds the URL", r.Action)
			}
		}
	}
	if want := []audit.Action{audit.WebhookDeleted, audit.WebhookSecretRotated, audit.WebhookChanged, audit.WebhookCreated}; !slices.Equal(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
}

// TestEventsDeliveredSignedWithoutPersonalData runs real service calls
// (an application created, moved, rejected, the candidate erased) to a
// real receiver, and verifies every delivery as a receiver would.
func TestEventsDeliveredSignedWithoutPersonalData(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := newReceiver(t, ok200)
	all := []string{ApplicationCreated, ApplicationStageChanged, ApplicationRejected, CandidateErased}
	sub, secret := e.subscribe(rec.URL+"/hooks", all...)
	onlyCreated, _ := e.subscribe(rec.URL+"/created", ApplicationCreated)

	app := e.apply("Zelda Quietname", "zelda.quiet@example.org")
	if err := e.kit.Recruit.Move(ctx, e.all, app.ID, recruit.MoveInput{Kind: access.StageInterview}); err != nil {
		t.Fatal(err)
	}
	reasons, err := e.kit.Recruit.Reasons(ctx, e.all)
	if err != nil || len(reasons) == 0 {
		t.Fatalf("reasons: %v %v", reasons, err)
	}
	if err := e.kit.Recruit.Move(ctx, e.all, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: reasons[0].ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.kit.Privacy.EraseCandidate(ctx, e.all, app.ID); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.Enqueue(ctx)
	if err != nil || n != 6 { // created, stage changed twice, rejected, erased; created again for the second subscription
		t.Fatalf("enqueue: %d %v, want 6", n, err)
	}
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 0 {
		t.Fatalf("enqueue again: %d %v, want 0", n, err)
	}
	if sent, err := e.svc.Deliver(ctx, 50); err != nil || sent != 6 {
		t.Fatalf("deliver: %d %v, want 6", sent, err)
	}
	got := rec.received()
	if len(got) != 6 {
		t.Fatalf("receiver got %d deliveries, want 6", len(got))
	}
	var types []string
	for _, r := range got {
		if strings.Contains(string(r.body), "Zelda") || strings.Contains(string(r.body), "Quietname") || strings.Contains(string(r.body), "zelda.quiet") {
			t.Errorf("a payload names the candidate: %s", r.body)
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get(IDHeader) == "" {
			t.Errorf("headers %v", r.header)
		}
		var ev Event
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != r.header.Get(EventHeader) || ev.Company != e.company.ID || ev.ID == "" || ev.OccurredAt.IsZero() {
			t.Errorf("event %+v, header %q", ev, r.header.Get(EventHeader))
		}
		types = append(types, ev.Type)
		switch ev.Type {
		case ApplicationCreated:
			if ev.Data["application_id"] != app.ID || ev.Data["candidate_id"] != app.Candidate.ID || ev.Data["position_id"] != e.pos.ID || ev.Data["stage"] != "new" {
				t.Errorf("application.created data %v", ev.Data)
			}
		case ApplicationStageChanged:
			if ev.Data["application_id"] != app.ID || ev.Data["to_stage"] == "" || ev.Data["from_stage"] == "" {
				t.Errorf("stage_changed data %v", ev.Data)
			}
		case ApplicationRejected:
			if ev.Data["application_id"] != app.ID || ev.Data["from_stage"] != "interview" || ev.Data["reason_id"] != reasons[0].ID {
				t.Errorf("rejected data %v", ev.Data)
			}
		case CandidateErased:
			if ev.Data["candidate_id"] != app.Candidate.ID || ev.Data["reason"] != "manual" {
				t.Errorf("erased data %v", ev.Data)
			}
		}
	}
	slices.Sort(types)
	if want := []string{ApplicationCreated, ApplicationCreated, ApplicationRejected, ApplicationStageChanged, ApplicationStageChanged, CandidateErased}; !slices.Equal(types, want) {
		t.Fatalf("types %v, want %v", types, want)
	}
	// Each delivery verifies with its subscription's secret, by an
	// implementation of the receiver's own; a changed body or an old
	// timestamp does not.
	logs := map[string]string{}
	for _, d := range e.deliveries(sub.ID) {
		logs[d.ID] = sub.ID
	}
	for _, d := range e.deliveries(onlyCreated.ID) {
		logs[d.ID] = onlyCreated.ID
	}
	verified := 0
	for _, r := range got {
		h := r.header.Get(SignatureHeader)
		if logs[r.header.Get(IDHeader)] != sub.ID {
			if err := verify(secret, h, r.body, e.clock.Now()); err == nil {
				t.Error("another subscription's delivery verifies with this secret")
			}
			continue
		}
		if err := verify(secret, h, r.body, e.clock.Now()); err != nil {
			t.Errorf("delivery %s: %v", r.header.Get(IDHeader), err)
		}
		verified++
		tampered := []byte(strings.Replace(string(r.body), `"type"`, `"Type"`, 1))
		if err := verify(secret, h, tampered, e.clock.Now()); err == nil {
			t.Error("a tampered body verifies")
		}
		if err := verify(secret, h, r.body, e.clock.Now().Add(6*time.Minute)); err == nil {
			t.Error("a stale timestamp verifies")
		}
		if err := verify("whsec_wrong", h, r.body, e.clock.Now()); err == nil {
			t.Error("another secret verifies")
		}
	}
	if verified != 5 {
		t.Fatalf("verified %d deliveries, want 5", verified)
	}
	for _, d := range e.deliveries(sub.ID) {
		if d.Status != Delivered || d.Attempts != 1 || d.LastStatus != 200 || !d.NextTryAt.IsZero() {
			t.Errorf("delivery %+v", d)
		}
	}
}

// TestRetriesBackOffThenSucceed: a receiver that fails twice, then takes it.
func TestRetriesBackOffThenSucceed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	sub, _ := e.subscribe(rec.URL, ApplicationCreated)
	e.apply("Ann", "ann@example.org")
	if _, err := e.svc.Enqueue(ctx); err != nil {
		t.Fatal(err)
	}
	start := e.clock.Now()
	if sent, err := e.svc.Deliver(ctx, 10); err != nil || sent != 0 {
		t.Fatalf("first attempt: %d %v", sent, err)
	}
	d := e.deliveries(sub.ID)[0]
	if d.Status != Pending || d.Attempts != 1 || d.LastStatus != 500 || d.LastError != "status" {
		t.Fatalf("after a 500: %+v", d)
	}
	if w := d.NextTryAt.Sub(start); w < 54*time.Second || w > 66*time.Second {
		t.Fatalf("first wait %v, want a minute ±10%%", w)
	}
	// Not due yet: nothing is sent.
	if _, err := e.svc.Deliver(ctx, 10); err != nil || len(rec.received()) != 1 {
		t.Fatalf("early retry: %d received, %v", len(rec.received()), err)
	}
	e.clock.Add(70 * time.Second)
	e.svc.Deliver(ctx, 10)
	d = e.deliveries(sub.ID)[0]
	if w := d.NextTryAt.Sub(e.clock.Now()); d.Attempts != 2 || w < 270*time.Second || w > 330*time.Second {
		t.Fatalf("second wait %v (%+v), want five minutes ±10%%", w, d)
	}
	e.clock.Add(6 * time.Minute)
	if sent, err := e.svc.Deliver(ctx, 10); err != nil || sent != 1 {
		t.Fatalf("third attempt: %d %v", sent, err)
	}
	d = e.deliveries(sub.ID)[0]
	if d.Status != Delivered || d.Attempts != 3 || d.LastStatus != 204 || d.LastError != "" || !d.NextTryAt.IsZero() {
		t.Fatalf("delivered: %+v", d)
	}
	got := rec.received()
	if len(got) != 3 || got[0].header.Get(IDHeader) != got[2].header.Get(IDHeader) {
		t.Fatalf("received %d; the delivery id must stay across attempts", len(got))
	}
}

// TestFailsAfterMaxAttemptsAndReplay: a receiver that never takes it.
func TestFailsAfterMaxAttemptsAndReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	failing := true
	var mu sync.Mutex
	rec := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	sub, _ := e.subscribe(rec.URL, ApplicationCreated)
	e.apply("Ann", "ann@example.org")
	if _, err := e.svc.Enqueue(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range MaxAttempts + 2 {
		if _, err := e.svc.Deliver(ctx, 10); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		e.clock.Add(27 * time.Hour)
	}
	d := e.deliveries(sub.ID)[0]
	if d.Status != Failed || d.Attempts != MaxAttempts || !d.NextTryAt.IsZero() || d.LastStatus != 502 {
		t.Fatalf("after every attempt: %+v", d)
	}
	if n := len(rec.received()); n != MaxAttempts {
		t.Fatalf("received %d attempts, want %d", n, MaxAttempts)
	}
	// Replay makes a fresh attempt; a pending delivery is not replayed.
	mu.Lock()
	failing = false
	mu.Unlock()
	r, err := e.svc.Replay(ctx, e.admin, d.ID)
	if err != nil || r.Status != Pending || r.Attempts != 0 {
		t.Fatalf("replay: %+v %v", r, err)
	}
	if _, err := e.svc.Replay(ctx, e.admin, d.ID); !errors.Is(err, ErrNotReplayable) {
		t.Fatalf("replay of a pending delivery: %v", err)
	}
	other := e.kit.Company(t, tenant.CreateInput{Slug: "beta", Name: "Beta"})
	if _, err := e.svc.Replay(ctx, e.kit.Actor(t, other.ID, "beta-admin", access.Administrator), d.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("replay from company B: %v", err)
	}
	if _, err := e.svc.Replay(ctx, e.kit.Actor(t, e.company.ID, "rita-recruiter", access.Recruiter), d.ID); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("replay by a recruiter: %v", err)
	}
	if sent, err := e.svc.Deliver(ctx, 10); err != nil || sent != 1 {
		t.Fatalf("replayed attempt: %d %v", sent, err)
	}
	if d := e.deliveries(sub.ID)[0]; d.Status != Delivered || d.Attempts != 1 {
		t.Fatalf("after replay: %+v", d)
	}
	if n := len(rec.received()); n != MaxAttempts+1 {
		t.Fatalf("received %d, want %d", n, MaxAttempts+1)
	}
	recs, _, _ := e.kit.Audit.List(ctx, e.company.ID, audit.Filter{Track: audit.Admin, Limit: 5})
	if len(recs) == 0 || recs[0].Action != audit.WebhookReplayed || recs[0].Details["delivery"] != d.ID {
		t.Fatalf("replay not audited: %+v", recs)
	}
	// The log keeps finished deliveries for KeepDeliveries.
	e.clock.Add(KeepDeliveries + time.Hour)
	if n, err := e.svc.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
}

// TestCursorRaceEnqueuesOnce: runs of two instances at once insert each
// event's delivery once.
func TestCursorRaceEnqueuesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, _ := e.subscribe("http://127.0.0.1:9/never", ApplicationCreated, ApplicationStageChanged)
	const apps = 30
	for i := range apps {
		app := e.apply("P"+strconv.Itoa(i), "p"+strconv.Itoa(i)+"@example.org")
		if err := e.kit.Recruit.Move(ctx, e.all, app.ID, recruit.MoveInput{Kind: access.StageInterview}); err != nil {
			t.Fatal(err)
		}
	}
	instances := []*Service{e.svc, e.service(true), e.service(true), e.service(true)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for round := range 3 {
		for _, s := range instances {
			wg.Go(func() {
				n, err := s.EnqueueCompany(ctx, e.company.ID)
				if err != nil && !errors.Is(err, db.ErrUniqueViolation) {
					t.Errorf("round %d: %v", round, err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	ds := e.deliveries(sub.ID)
	events := map[string]int{}
	for _, d := range ds {
		events[d.EventID]++
	}
	if len(ds) != 2*apps || len(events) != 2*apps || total != 2*apps {
		t.Fatalf("%d deliveries of %d events (counted %d), want %d once each", len(ds), len(events), total, 2*apps)
	}
}

// TestDialTimeRefusals: without the operator's allowance a delivery to
// loopback is refused when it connects, by address or by a name that
// resolves there (as a rebinding name would after a check), and a
// redirect is not followed.
func TestDialTimeRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := newReceiver(t, ok200)
	port := rec.URL[strings.LastIndex(rec.URL, ":")+1:]
	byAddr, _ := e.subscribe(rec.URL, ApplicationCreated)
	byName, _ := e.subscribe("http://localhost:"+port+"/", ApplicationCreated)
	target := newReceiver(t, ok200)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/stolen", http.StatusFound))
	t.Cleanup(redirect.Close)
	redirected, _ := e.subscribe(redirect.URL, ApplicationCreated)

	e.apply("Ann", "ann@example.org")
	strict := e.service(false)
	if _, err := strict.Enqueue(ctx); err != nil {
		t.Fatal(err)
	}
	// The strict instance refuses the loopback receivers at dial time.
	if sent, err := strict.Deliver(ctx, 10); err != nil || sent != 0 {
		t.Fatalf("strict deliver: %d %v", sent, err)
	}
	for _, sub := range []*Subscription{byAddr, byName, redirected} {
		d := e.deliveries(sub.ID)[0]
		if d.LastError != "refused_address" || d.LastStatus != 0 || d.Status != Pending {
			t.Errorf("%s: %+v, want refused at dial time", sub.URL, d)
		}
	}
	if n := len(rec.received()); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
	// With the allowance (development), the redirect is an answer, not
	// followed.
	e.clock.Add(2 * time.Minute)
	if _, err := e.svc.Deliver(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if d := e.deliveries(redirected.ID)[0]; d.LastStatus != http.StatusFound || d.LastError != "redirect" || d.Status != Pending {
		t.Fatalf("redirect: %+v", d)
	}
	if n := len(target.received()); n != 0 {
		t.Fatalf("the redirect was followed (%d requests)", n)
	}
	if n := len(rec.received()); n != 2 {
		t.Fatalf("allowed receiver got %d, want 2", n)
	}
}

// TestConsentExpiring: a candidate's basis end entering the notice window
// is announced once.
func TestConsentExpiring(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := newReceiver(t, ok200)
	sub, _ := e.subscribe(rec.URL, ConsentExpiring)
	app := e.apply("Ann", "ann@example.org")
	horizon := e.clock.Now().AddDate(0, tenant.NoticeMonths, 0)
	// The basis ends a day and a half after the window's end today, and a
	// second candidate's long after.
	late := e.apply("Bea", "bea@example.org")
	if err := e.kit.DB.InTx(ctx, e.company.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE candidates SET basis_until = $3, purpose_until = $3, consent_until = NULL WHERE tenant_id = $1 AND id = $2`,
			e.company.ID, app.Candidate.ID, db.Time(horizon.Add(36*time.Hour))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE candidates SET basis_until = $3 WHERE tenant_id = $1 AND id = $2`,
			e.company.ID, late.Candidate.ID, db.Time(horizon.AddDate(1, 0, 0)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 0 {
		t.Fatalf("today: %d %v, want none", n, err)
	}
	e.clock.Add(24 * time.Hour)
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 0 {
		t.Fatalf("tomorrow: %d %v, want none", n, err)
	}
	e.clock.Add(24 * time.Hour)
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 1 {
		t.Fatalf("in two days: %d %v, want one", n, err)
	}
	e.clock.Add(24 * time.Hour)
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 0 {
		t.Fatalf("in three days: %d %v, want none", n, err)
	}
	if _, err := e.svc.Deliver(ctx, 10); err != nil {
		t.Fatal(err)
	}
	got := rec.received()
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	var ev Event
	json.Unmarshal(got[0].body, &ev)
	if ev.Type != ConsentExpiring || ev.Data["candidate_id"] != app.Candidate.ID || ev.Data["basis"] != "purpose" || ev.Data["basis_until"] == "" {
		t.Fatalf("event %+v", ev)
	}
	if strings.Contains(string(got[0].body), "Ann") || strings.Contains(string(got[0].body), "ann@") {
		t.Fatal("the payload names the candidate")
	}
	_ = sub
}

// TestModuleOffSendsNothing: a company whose api module is switched off
// gets no events and no attempts; switched on again, what happened
// meanwhile goes out.
func TestModuleOffSendsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := newReceiver(t, ok200)
	e.subscribe(rec.URL, ApplicationCreated)
	e.apply("Ann", "ann@example.org")
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 1 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	if err := e.kit.Tenants.SetModules(ctx, audit.Operator, e.company.ID, []tenant.Module{tenant.Recruitment}); err != nil {
		t.Fatal(err)
	}
	e.apply("Bea", "bea@example.org")
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 0 {
		t.Fatalf("enqueue without the module: %d %v", n, err)
	}
	if n, err := e.svc.Deliver(ctx, 10); err != nil || n != 0 || len(rec.received()) != 0 {
		t.Fatalf("deliver without the module: %d %v, %d received", n, err, len(rec.received()))
	}
	if err := e.kit.Tenants.SetModules(ctx, audit.Operator, e.company.ID, []tenant.Module{tenant.Recruitment, tenant.API}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Enqueue(ctx); err != nil || n != 1 {
		t.Fatalf("enqueue with the module again: %d %v", n, err)
	}
	if n, err := e.svc.Deliver(ctx, 10); err != nil || n != 2 || len(rec.received()) != 2 {
		t.Fatalf("deliver with the module again: %d %v", n, err)
	}
}
