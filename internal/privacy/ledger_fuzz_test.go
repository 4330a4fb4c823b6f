package privacy_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/privacy"
)

// FuzzParseLedgerLine: any bytes (a torn or damaged ledger) give an entry
// or ErrLedgerLine, never a panic; an entry read back is one the ledger
// could have written: known reason, ids without spaces or quotes, a time.
func FuzzParseLedgerLine(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"manual","at":"2026-12-03T07:00:00Z"}`,
		`{"v":1,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"manual","at":"2026-12-03T07:00:00Z"}{}`,
		`{"v":2,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"manual","at":"2026-12-03T07:00:00Z"}`,
		`{"v":1,"tenant":"t 1","candidate":"c1","erasure":"e1","reason":"manual","at":"2026-12-03T07:00:00Z"}`,
		`{"v":1,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"whim","at":"2026-12-03T07:00:00Z"}`,
		`{"v":1,"tenant":"t1","cand`, `null`, `[]`, "", "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := privacy.ParseLedgerLine(line)
		if err != nil {
			if e != (privacy.LedgerEntry{}) {
				t.Fatalf("an entry with an error: %+v", e)
			}
			return
		}
		for _, id := range []string{e.TenantID, e.CandidateID, e.ErasureID} {
			if id == "" || bytes.ContainsAny([]byte(id), " \"'\\\n") {
				t.Fatalf("bad id %q accepted", id)
			}
		}
		if e.At.IsZero() || e.At.Location() != time.UTC {
			t.Fatalf("time %v", e.At)
		}
		// What was read writes back to a line that reads the same.
		b, _ := json.Marshal(map[string]any{"v": 1, "tenant": e.TenantID, "candidate": e.CandidateID, "erasure": e.ErasureID,
			"reason": e.Reason, "at": e.At})
		again, err := privacy.ParseLedgerLine(b)
		if err != nil || !again.At.Equal(e.At) || again.CandidateID != e.CandidateID || again.Reason != e.Reason {
			t.Fatalf("round trip: %+v %v", again, err)
		}
	})
}
