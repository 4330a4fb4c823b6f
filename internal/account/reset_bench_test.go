package account_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/notify"
)

// BenchmarkRequestPasswordReset compares a reset request for an address
// that has an account with one for an address that has none: the answer is
// the same, and so should its time be (decoyReset). The two alternate in
// one loop on one database, so a busy machine slows both alike; the
// metrics are the median time of each (known-ns, unknown-ns) and their
// ratio. Each request comes from another address, so the per-address
// throttle never waits.
func BenchmarkRequestPasswordReset(b *testing.B) {
	ctx := context.Background()
	e := newFastEnv(b)
	e.svc = e.kit.NewAccounts(account.Options{Argon2: fastArgon2,
		Queue: notify.NewQueue(e.db), BaseURL: "https://jobs.example"})
	c := e.company(b, "acme")
	if _, err := e.svc.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{
		Login: "alice", Email: "alice@acme.example", DisplayName: "Alice", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	var known, unknown []time.Duration
	request := func(i int, identifier string) time.Duration {
		client := account.Client{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
		t0 := time.Now()
		if err := e.svc.RequestPasswordReset(ctx, identifier, client); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	i := 0
	for b.Loop() {
		// Alternate which goes first, so neither always follows the other.
		if i%2 == 0 {
			known = append(known, request(2*i, "alice@acme.example"))
			unknown = append(unknown, request(2*i+1, "nobody@acme.example"))
		} else {
			unknown = append(unknown, request(2*i+1, "nobody@acme.example"))
			known = append(known, request(2*i, "alice@acme.example"))
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(median(known), "known-ns")
	b.ReportMetric(median(unknown), "unknown-ns")
	b.ReportMetric(median(unknown)/median(known), "unknown/known")
}
