package db_test

import (
	"testing"

	"github.com/kandidat/kandidat/internal/db"
)

// FuzzParseCursor: whatever comes in ?after=, a cursor is either refused
// (the first page) or names a time every engine holds and a valid id, and
// a cursor a list wrote reads back as written.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "garbage", "1700000000000000.0190a5c2-7d5e-7000-8000-000000000001", "9999999999999999999.x",
		"-1.a", "1.\xff", "253402214400000000.a", ".", "1..", "01.a-b", "0.a", "1700000000000000_abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, id, ok := db.ParseTimeCursor(s)
		if !ok {
			return
		}
		if at.Year() < 1970 || at.Year() > 9999 || id == "" || len(id) > 64 {
			t.Fatalf("%q read as %v %q", s, at, id)
		}
		if back, id2, ok := db.ParseTimeCursor(db.TimeCursor(at, id)); !ok || !back.Equal(at) || id2 != id {
			t.Fatalf("%q: written again as %q, read back as %v %q %v", s, db.TimeCursor(at, id), back, id2, ok)
		}
	})
}
