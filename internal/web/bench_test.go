package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
