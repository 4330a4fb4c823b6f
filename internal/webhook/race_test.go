package webhook

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSubscriptionLimitRace: saves at once never pass MaxSubscriptions.
func TestSubscriptionLimitRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range MaxSubscriptions - 3 {
		e.subscribe("https://hooks.example.com/"+strconv.Itoa(i), ApplicationCreated)
	}
	var wg sync.WaitGroup
	var ok, tooMany atomic.Int32
	for i := range 10 {
		s := e.service(false)
		wg.Go(func() {
			_, _, err := s.Subscribe(ctx, e.admin, Input{URL: "https://hooks.example.com/race/" + strconv.Itoa(i), Events: []string{ApplicationCreated}, Active: true})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrTooMany):
				tooMany.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	subs, err := e.svc.Subscriptions(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if ok.Load() != 3 || tooMany.Load() != 7 || len(subs) != MaxSubscriptions {
		t.Fatalf("%d saved, %d refused, %d kept; want 3, 7, %d", ok.Load(), tooMany.Load(), len(subs), MaxSubscriptions)
	}
}

// TestDeliveryClaimAndReplayRace: instances delivering at once send each
// delivery once; replays at once make one fresh attempt.
func TestDeliveryClaimAndReplayRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	rec := newReceiver(t, func(int) int { return http.StatusOK })
	rec.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get(IDHeader)]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	})
	sub, _ := e.subscribe(rec.URL, ApplicationCreated)
	const apps = 20
	for i := range apps {
		e.apply("P"+strconv.Itoa(i), "p"+strconv.Itoa(i)+"@example.org")
	}
	if n, err := e.svc.Enqueue(ctx); err != nil || n != apps {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	var wg sync.WaitGroup
	var sent atomic.Int32
	for range 4 {
		s := e.service(true)
		wg.Go(func() {
			n, err := s.Deliver(ctx, apps)
			if err != nil {
				t.Error(err)
			}
			sent.Add(int32(n))
		})
	}
	wg.Wait()
	mu.Lock()
	if len(seen) != apps || sent.Load() != apps {
		t.Fatalf("%d deliveries received, %d counted sent; want %d", len(seen), sent.Load(), apps)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %s sent %d times", id, n)
		}
	}
	mu.Unlock()
	d := e.deliveries(sub.ID)[0]
	var replayed, refused atomic.Int32
	for range 6 {
		s := e.service(true)
		wg.Go(func() {
			_, err := s.Replay(ctx, e.admin, d.ID)
			switch {
			case err == nil:
				replayed.Add(1)
			case errors.Is(err, ErrNotReplayable):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if replayed.Load() != 1 || refused.Load() != 5 {
		t.Fatalf("%d replays, %d refused; want 1 and 5", replayed.Load(), refused.Load())
	}
}
