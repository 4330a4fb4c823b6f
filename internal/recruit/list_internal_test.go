package recruit

import (
	"testing"
	"time"
)

// TestTotalCache: a large company's total is kept for totalTTL and then
// summed again; a small company's is never kept (it is always exact).
func TestTotalCache(t *testing.T) {
	var c totalCache
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c.put("small", totalEstimated-1, now)
	if _, ok := c.get("small", now); ok {
		t.Fatal("a small company's total was kept")
	}
	c.put("large", 123456, now)
	if n, ok := c.get("large", now.Add(totalTTL-time.Second)); !ok || n != 123456 {
		t.Fatalf("within the TTL: %d %v, want 123456 kept", n, ok)
	}
	if _, ok := c.get("large", now.Add(totalTTL)); ok {
		t.Fatal("the total was kept past its TTL")
	}
	if _, ok := c.get("other", now); ok {
		t.Fatal("another company's total")
	}
}
