package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

// BenchmarkDashboardUnderSignInFlood measures what a signed-in user feels
// while 200 clients hammer the sign-in form, each attempt from another
// address and with another unknown login, so no throttle holds them back
// and every attempt costs a full argon2id hash at the default parameters:
// the p50/p99 latency of dashboard requests, the peak heap, and the rate of
// sign-in attempts served.
func BenchmarkDashboardUnderSignInFlood(b *testing.B) {
	f := newFixture(b, Options{TrustedProxies: mustPrefixes(b, "127.0.0.0/8")})
	// A service with the production hashing cost.
	f.useAccounts(account.Options{Argon2: account.DefaultArgon2})
	if _, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "ada", DisplayName: "Ada", Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	tok := f.signIn("ada", testPassword)
	srv := httptest.NewServer(f.h)
	defer srv.Close()

	stop := make(chan struct{})
	floodStart := time.Now()
	var attempts, others atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// A new unknown login each time: no throttle applies, every attempt costs a full hash.
				form := url.Values{"login": {fmt.Sprintf("nobody-%d-%d", i, n)}, "password": {"wrong-password"}}
				req, _ := http.NewRequest("POST", srv.URL+"/signin", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				// A botnet: every attempt from another address.
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i, (n/250)%250, n%250))
				if res, err := client.Do(req); err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusUnauthorized {
						attempts.Add(1) // a refused sign-in, hashed and recorded
					} else {
						others.Add(1)
					}
				}
			}
		}()
	}
	var peak atomic.Uint64
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	time.Sleep(500 * time.Millisecond) // let the flood build up
	// The flood runs through the in-process test server; the measured
	// dashboard requests too, through the same listener.
	client := &http.Client{}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", srv.URL+"/dashboard", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("dashboard: %d", res.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	floodTime := time.Since(floodStart)
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(attempts.Load())/floodTime.Seconds(), "sign-ins/s")
	if others.Load() > 0 {
		b.Fatalf("%d flood requests got an answer other than 401", others.Load())
	}
}
