package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkCareerApplication measures applications through the career
// page, each with a 200 KB PDF: multipart parsing, the content check,
// encryption into the file store and the transaction with its audit
// records and confirmation email. Run in parallel on every core.
func BenchmarkCareerApplication(b *testing.B) {
	f := newFixture(b, Options{})
	rec, _ := f.roleUser("rolf", access.Recruiter)
	ra := f.actor(rec)
	pos, err := f.recruit.CreatePosition(context.Background(), ra, recruit.PositionInput{Title: "Engineer", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.recruit.Publish(context.Background(), ra, pos.ID); err != nil {
		b.Fatal(err)
	}
	var clock atomic.Int64
	f.srv.applyLimit.now = func() time.Time { return time.Unix(clock.Add(3600), 0) } // the limiter is not what is measured
	pdf := "%PDF-1.7\n" + strings.Repeat("0123456789abcdef", 200<<10/16) + "\n%%EOF\n"
	var n atomic.Int64
	b.SetBytes(int64(len(pdf)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			w.WriteField("name", "Candidate")
			w.WriteField("email", fmt.Sprintf("c%d@example.org", i))
			fw, _ := w.CreateFormFile("cv", "cv.pdf")
			fw.Write([]byte(pdf))
			w.Close()
			req := httptest.NewRequest("POST", "http://127.0.0.1:8080/careers/acme/"+pos.ID, &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applications/s")
}

// BenchmarkPipelineBoard measures the position page (the pipeline board)
// of a position with 2,000 applications, as its recruiter sees it.
func BenchmarkPipelineBoard(b *testing.B) {
	f := newFixture(b, Options{})
	ctx := context.Background()
	rec, tok := f.roleUser("rolf", access.Recruiter)
	ra := f.actor(rec)
	pos, err := f.recruit.CreatePosition(ctx, ra, recruit.PositionInput{Title: "Engineer", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		if _, err := f.recruit.AddCandidate(ctx, ra, pos.ID, recruit.CandidateInput{Name: fmt.Sprintf("Candidate %d", i),
			Email: fmt.Sprintf("c%d@example.org", i)}, access.StageKinds[i%len(access.StageKinds)], recruit.ViaStaff); err != nil {
			b.Fatal(err)
		}
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/positions/"+pos.ID, nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		times = append(times, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkCandidateCard measures the candidate card of an application
// with a document, an interview, comments, ratings, labels and a task.
func BenchmarkCandidateCard(b *testing.B) {
	f := newFixture(b, Options{})
	ctx := context.Background()
	rec, tok := f.roleUser("rolf", access.Recruiter)
	ra := f.actor(rec)
	pos, _ := f.recruit.CreatePosition(ctx, ra, recruit.PositionInput{Title: "Engineer", Language: "en"})
	if _, err := f.recruit.Publish(ctx, ra, pos.ID); err != nil {
		b.Fatal(err)
	}
	app, err := f.recruit.Apply(ctx, f.company.ID, pos.ID, recruit.ApplyInput{Name: "Ann", Email: "ann@example.org",
		CV: &recruit.Upload{Name: "cv.pdf", Data: []byte("%PDF-1.7\nx\n%%EOF\n")}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5 {
		f.recruit.AddComment(ctx, ra, app.ID, fmt.Sprintf("Comment %d", i))
	}
	f.recruit.Rate(ctx, ra, app.ID, recruit.RateInvite)
	f.recruit.AddLabel(ctx, ra, app.ID, "senior")
	f.recruit.AddTask(ctx, ra, app.ID, recruit.TaskInput{Title: "Call"})
	if _, err := f.recruit.InviteInterview(ctx, ra, app.ID, recruit.InterviewInput{Date: time.Now().AddDate(0, 0, 3).Format("2006-01-02"),
		Time: "10:00", TimeZone: "Europe/Oslo", Minutes: 30, Location: "Office"}); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/applications/"+app.ID, nil)
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
