package account

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	ctx := context.Background()
	g := newGate()
	holdA, err := g.enter(ctx, []string{"ip:192.0.2.1", "login:x"})
	if err != nil {
		t.Fatal(err)
	}
	// B queues behind A for login:x, holding nothing meanwhile.
	bctx, cancelB := context.WithCancel(ctx)
	bdone := make(chan error, 1)
	go func() {
		release, err := g.enter(bctx, []string{"login:x", "ip:192.0.2.1"})
		if err == nil {
			release()
		}
		bdone <- err
	}()
	for {
		g.mu.Lock()
		n := g.entries["login:x"].users
		g.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// So the address still has three slots for other logins.
	quick, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var others []func()
	for i := range gateSlotsPerAddress - 1 {
		release, err := g.enter(quick, []string{"login:other" + strconv.Itoa(i), "ip:192.0.2.1"})
		if err != nil {
			t.Fatalf("another login from the address while one login's burst waits: %v", err)
		}
		others = append(others, release)
	}
	for _, r := range others {
		r()
	}
	// A waiter that gives up leaves nothing behind.
	cancelB()
	if err := <-bdone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	// A login's queue is bounded.
	var queued []chan struct{}
	for range gateQueue - 1 {
		stop := make(chan struct{})
		queued = append(queued, stop)
		go func() {
			wctx, cancel := context.WithCancel(ctx)
			go func() { <-stop; cancel() }()
			if release, err := g.enter(wctx, []string{"login:x"}); err == nil {
				release()
			}
		}()
	}
	for {
		g.mu.Lock()
		n := g.entries["login:x"].users
		g.mu.Unlock()
		if n == gateQueue {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := g.enter(ctx, []string{"login:x"}); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("beyond the queue: %v, want ErrTooManyAttempts", err)
	}
	for _, stop := range queued {
		close(stop)
	}
	holdA()
	for {
		g.mu.Lock()
		n := len(g.entries)
		g.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The map is bounded: a new key beyond gateMaxKeys is refused.
	var held []func()
	for i := range gateMaxKeys {
		release, err := g.enter(ctx, []string{"login:" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	if _, err := g.enter(ctx, []string{"login:one-more"}); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("beyond the map's size: %v, want ErrTooManyAttempts", err)
	}
	for _, r := range held {
		r()
	}
	if len(g.entries) != 0 {
		t.Fatalf("%d keys left after every attempt ended", len(g.entries))
	}
}
