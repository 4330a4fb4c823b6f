package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// BenchmarkDashboard measures an authenticated dashboard request through the
// whole stack: middleware, session lookup, two reads, template rendering.
func BenchmarkDashboard(b *testing.B) {
	f := newFixture(b, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/dashboard", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkBareHandler is the floor: a net/http handler writing a small page.
func BenchmarkBareHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>ok</title><p>ok</p>"))
	})
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

// BenchmarkPositionPageAsLineManager measures a line manager's view of a
// shared position with 50 candidates: session and permission resolution,
// the policy decisions, the scoped read transaction and rendering.
func BenchmarkPositionPageAsLineManager(b *testing.B) {
	f := newFixture(b, Options{})
	ctx := context.Background()
	rec, _ := f.roleUser("rolf", access.Recruiter)
	lm, tok := f.roleUser("lina", access.LineManager)
	ra := f.actor(rec)
	pos, err := f.recruit.CreatePosition(ctx, ra, recruit.PositionInput{Title: "Engineer", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.recruit.SharePosition(ctx, ra, pos.ID, []string{lm.ID}); err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		if _, err := f.recruit.AddCandidate(ctx, ra, pos.ID, recruit.CandidateInput{Name: fmt.Sprintf("Candidate %d", i),
			Email: fmt.Sprintf("c%d@example.org", i)}, access.StageKinds[i%len(access.StageKinds)], recruit.ViaStaff); err != nil {
			b.Fatal(err)
		}
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/positions/"+pos.ID, nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
