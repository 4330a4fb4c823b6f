package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/webhook"
)

// TestDeliverWebhooksDrainsTheQueue: the deliver job sends every due
// delivery in one run, a batch of 50 at a time.
func TestDeliverWebhooksDrainsTheQueue(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	acme := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME AB", Modules: []tenant.Module{tenant.Recruitment, tenant.API}})
	admin := k.Actor(t, acme.ID, "admin-user", access.Administrator)
	all := admin
	all.Perms = access.Decode(strings.Join(access.Names(), ","))
	var hits atomic.Int32
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rec.Close()
	hooks := webhook.NewService(k.DB, webhook.Options{Audit: k.Audit, Keys: k.Keys, AllowPrivate: true})
	if _, _, err := hooks.Subscribe(ctx, admin, webhook.Input{URL: rec.URL, Events: []string{webhook.ApplicationCreated}, Active: true}); err != nil {
		t.Fatal(err)
	}
	pos, err := k.Recruit.CreatePosition(ctx, all, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	const apps = 60
	for i := range apps {
		if _, err := k.Recruit.AddCandidate(ctx, all, pos.ID, recruit.CandidateInput{Name: "P", Email: fmt.Sprintf("p%d@example.org", i)}, access.StageNew, recruit.ViaStaff); err != nil {
			t.Fatal(err)
		}
	}
	r := &Runner{DB: k.DB, Audit: k.Audit, Webhooks: hooks, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, err := r.Webhooks.Enqueue(ctx); err != nil || n != apps {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	if n, err := r.DeliverWebhooks(ctx); err != nil || n != apps || hits.Load() != apps {
		t.Fatalf("deliver: %d %v, %d received; want %d", n, err, hits.Load(), apps)
	}
	if n, err := r.DeliverWebhooks(ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}
