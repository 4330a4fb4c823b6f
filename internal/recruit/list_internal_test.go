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

// FuzzParseCursor: whatever comes in ?after=, a cursor is either refused
// (the first page) or names a time every engine holds and a valid id, and
// a cursor the list wrote reads back as written.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "garbage", "1700000000000000.0190a5c2-7d5e-7000-8000-000000000001", "9999999999999999999.x",
		"-1.a", "1.\xff", "253402214400000000.a", ".", "1..", "01.a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, id, ok := parseCursor(s)
		if !ok {
			return
		}
		if at.Year() < 1970 || at.Year() > 9999 || id == "" || len(id) > 64 {
			t.Fatalf("%q read as %v %q", s, at, id)
		}
		if back, id2, ok := parseCursor(pageCursor(at, id)); !ok || !back.Equal(at) || id2 != id {
			t.Fatalf("%q: written again as %q, read back as %v %q %v", s, pageCursor(at, id), back, id2, ok)
		}
	})
}
