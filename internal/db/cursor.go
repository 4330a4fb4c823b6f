package db

import (
	"strconv"
	"strings"
	"time"
)

// Lists ordered by (time, id), newest first, page by keyset: a page ends
// with a cursor naming its last row, and the next page starts after it.
// The cursor is opaque to its reader and holds no personal data.

// maxCursorMicros is the latest time a cursor may name: every engine holds it.
var maxCursorMicros = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro()

// TimeCursor is the cursor of a row at time t with id.
func TimeCursor(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixMicro(), 10) + "." + id
}

// ParseTimeCursor reads what TimeCursor wrote. Anything else (a time no
// engine holds, an id of another shape, bytes that are not UTF-8) is
// refused, so a value the database would refuse never reaches it.
func ParseTimeCursor(c string) (time.Time, string, bool) {
	us, id, ok := strings.Cut(c, ".")
	if !ok || !idShaped(id) {
		return time.Time{}, "", false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n <= 0 || n > maxCursorMicros {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// idShaped reports whether s has the form of a stored id: lower-case
// letters, digits and hyphens, 1 to 64 of them.
func idShaped(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
