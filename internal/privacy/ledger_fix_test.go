package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// ledgerLineLimit is the longest line the ledger reads as an entry
// (privacy's maxLedgerLine); TestReadLedgerLineBound pins it.
const ledgerLineLimit = 4096

// entryLine is the ledger line of an entry, padded with spaces inside the
// object to length bytes when length is larger.
func entryLine(t testing.TB, e privacy.LedgerEntry, length int) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"v": 1, "tenant": e.TenantID, "candidate": e.CandidateID, "erasure": e.ErasureID,
		"reason": e.Reason, "at": e.At})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if pad := length - len(s); pad > 0 {
		s = "{" + strings.Repeat(" ", pad) + s[1:]
	}
	return s
}

func sampleEntry(n int) privacy.LedgerEntry {
	return privacy.LedgerEntry{TenantID: "t1", CandidateID: fmt.Sprintf("c%d", n), ErasureID: fmt.Sprintf("e%d", n),
		Reason: privacy.ReasonManual, At: time.Date(2026, 12, 3, 7, 0, n, 0, time.UTC)}
}

// TestReadLedgerLongLine: a line of 100 KB between two entries (damage, or
// a file that is no ledger) is one bad line, not the end of the ledger,
// however the reader hands out its bytes.
func TestReadLedgerLongLine(t *testing.T) {
	one, two := sampleEntry(1), sampleEntry(2)
	text := entryLine(t, one, 0) + "\n" + strings.Repeat("x", 100_000) + "\n" + entryLine(t, two, 0) + "\n"
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(text) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(text)) },
		"halves":   func() io.Reader { return iotest.HalfReader(strings.NewReader(text)) },
	}
	for name, r := range readers {
		entries, bad, err := privacy.ReadLedger(r())
		if err != nil || bad != 1 || !slices.Equal(entries, []privacy.LedgerEntry{one, two}) {
			t.Fatalf("%s: %d entries %+v, %d bad, %v; want the two entries and 1 bad", name, len(entries), entries, bad, err)
		}
	}
	// A long line at the end, without a newline, and one of blanks.
	entries, bad, err := privacy.ReadLedger(strings.NewReader(entryLine(t, one, 0) + "\n" + strings.Repeat(" ", 70_000) + "\n" + strings.Repeat("{", 70_000)))
	if err != nil || bad != 2 || len(entries) != 1 {
		t.Fatalf("long last lines: %d entries, %d bad, %v", len(entries), bad, err)
	}
}

// TestReadLedgerLineBound: an entry padded to the longest line is read (with
// a CRLF ending too), a byte more is a bad line.
func TestReadLedgerLineBound(t *testing.T) {
	e := sampleEntry(3)
	for _, c := range []struct {
		text          string
		entries, bads int
	}{
		{entryLine(t, e, ledgerLineLimit) + "\n", 1, 0},
		{entryLine(t, e, ledgerLineLimit) + "\r\n", 1, 0},
		{entryLine(t, e, ledgerLineLimit), 1, 0},
		{entryLine(t, e, ledgerLineLimit) + "\r", 1, 0},
		{entryLine(t, e, ledgerLineLimit+1) + "\n", 0, 1},
		{entryLine(t, e, ledgerLineLimit+1) + "\r\n", 0, 1},
		{entryLine(t, e, ledgerLineLimit+1), 0, 1},
		{entryLine(t, e, ledgerLineLimit+2) + "\n" + entryLine(t, e, 0), 1, 1},
	} {
		entries, bad, err := privacy.ReadLedger(strings.NewReader(c.text))
		if err != nil || len(entries) != c.entries || bad != c.bads {
			t.Fatalf("line of %d bytes: %d entries, %d bad, %v; want %d, %d", len(c.text), len(entries), bad, err, c.entries, c.bads)
		}
	}
}

// TestReadLedgerReadError: a failure to read is an error, with the entries
// read before it.
func TestReadLedgerReadError(t *testing.T) {
	broken := errors.New("disk gone")
	entries, bad, err := privacy.ReadLedger(io.MultiReader(strings.NewReader(entryLine(t, sampleEntry(1), 0)+"\n"+strings.Repeat("y", 9000)), iotest.ErrReader(broken)))
	if !errors.Is(err, broken) || len(entries) != 1 || bad != 0 {
		t.Fatalf("%d entries, %d bad, %v; want 1 entry and the read error", len(entries), bad, err)
	}
}

// readLedgerModel is what ReadLedger must return for data: its lines (a
// last one without a newline included), each without its newline and a
// carriage return before it; blank lines skipped, lines over the limit
// bad, the rest entries or bad as ParseLedgerLine says.
func readLedgerModel(data []byte) ([]privacy.LedgerEntry, int) {
	var out []privacy.LedgerEntry
	bad := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > ledgerLineLimit {
			bad++
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := privacy.ParseLedgerLine(line)
		if err != nil {
			bad++
			continue
		}
		out = append(out, e)
	}
	return out, bad
}

// FuzzReadLedger: any bytes give the entries and bad lines that reading
// the lines one by one gives, never a panic; every entry is one
// ParseLedgerLine reads back the same. pad inserts a run of bytes at the
// position at, for lines longer than the reader's buffer.
func FuzzReadLedger(f *testing.F) {
	good := `{"v":1,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"manual","at":"2026-12-03T07:00:00Z"}`
	for _, s := range []string{
		good + "\n" + good + "\n",
		good + "\r\n\r\n" + `{"v":1,"tenant":"t1","cand`,
		"\n\n \t\n" + good,
		`{"v":1,"tenant":"t1","candidate":"c1","erasure":"e1","reason":"whim","at":"2026-12-03T07:00:00Z"}` + "\n" + good,
		"\xff\xfe\n" + good + "\r",
		"",
	} {
		f.Add([]byte(s), uint16(0), uint16(0), false)
	}
	f.Add([]byte(good+"\n"+good), uint16(10), uint16(5000), true)
	f.Add([]byte(good+"\n"+good), uint16(len(good)+1), uint16(4200), false)
	f.Fuzz(func(t *testing.T, data []byte, at, pad uint16, blank bool) {
		if pad > 0 {
			fill := byte('x')
			if blank {
				fill = ' '
			}
			i := int(at) % (len(data) + 1)
			data = slices.Concat(data[:i], bytes.Repeat([]byte{fill}, int(pad)%20000), data[i:])
		}
		entries, bad, err := privacy.ReadLedger(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("error reading bytes: %v", err)
		}
		want, wantBad := readLedgerModel(data)
		if bad != wantBad || !slices.Equal(entries, want) {
			t.Fatalf("%d entries, %d bad; line by line %d entries, %d bad", len(entries), bad, len(want), wantBad)
		}
		for _, e := range entries {
			again, err := privacy.ParseLedgerLine([]byte(entryLine(t, e, 0)))
			if err != nil || again != e {
				t.Fatalf("entry %+v reads back as %+v, %v", e, again, err)
			}
		}
	})
}

// TestLedgerAppendAfterTornLine: a crash left the ledger ending in the
// fragment of a line; the next erasure's entry is a line of its own (the
// fragment one bad line), and the erasure after it adds no blank line.
func TestLedgerAppendAfterTornLine(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.addExpired(t, 2)
	fragment := `{"v":1,"tenant":"` + e.tenantID + `","cand`
	if err := os.WriteFile(e.kit.Ledger, []byte(fragment), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.svc.EraseSubject(ctx, audit.System("test"), e.tenantID, ids[0]); err != nil || !ok {
		t.Fatalf("erase: %v %v", ok, err)
	}
	f, err := os.Open(e.kit.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	entries, bad, err := privacy.ReadLedger(f)
	f.Close()
	if err != nil || bad != 1 || len(entries) != 1 || entries[0].CandidateID != ids[0] || entries[0].Reason != privacy.ReasonSubjectRequest {
		t.Fatalf("after the torn line: %+v, %d bad, %v; want the erasure and 1 bad", entries, bad, err)
	}
	if ok, err := e.svc.EraseSubject(ctx, audit.System("test"), e.tenantID, ids[1]); err != nil || !ok {
		t.Fatalf("erase: %v %v", ok, err)
	}
	b, err := os.ReadFile(e.kit.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) != 4 || lines[0] != fragment || lines[3] != "" || !strings.Contains(lines[1], ids[0]) || !strings.Contains(lines[2], ids[1]) {
		t.Fatalf("ledger lines %q", lines)
	}
	if n := e.countRows(t, `SELECT count(*) FROM erasures WHERE NOT ledgered`); n != 0 {
		t.Fatalf("%d erasures not marked ledgered", n)
	}
}

// TestLedgerAppendToEmptyFile: an empty ledger gets no newline first.
func TestLedgerAppendToEmptyFile(t *testing.T) {
	e := newEnv(t)
	ids := e.addExpired(t, 1)
	if err := os.WriteFile(e.kit.Ledger, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.svc.EraseSubject(context.Background(), audit.System("test"), e.tenantID, ids[0]); err != nil || !ok {
		t.Fatalf("erase: %v %v", ok, err)
	}
	b, err := os.ReadFile(e.kit.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{`)) || bytes.Count(b, []byte("\n")) != 1 || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("ledger %q", b)
	}
}

// TestExportLedger: the export of the erasures table names the erasures
// the ledger file does, every company's, with the same ids, reasons and
// times; it pages through a company's many erasures without losing or
// repeating one.
func TestExportLedger(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k := e.kit
	other := k.Company(t, tenant.CreateInput{Name: "Globex", Slug: "globex"})
	otherHR := k.Actor(t, other.ID, "otto", access.HRManager)
	p, err := k.Recruit.CreatePosition(ctx, otherHR, recruit.PositionInput{Title: "Welder", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := k.Recruit.AddCandidate(ctx, otherHR, p.ID, recruit.CandidateInput{Name: "Other Person", Email: "other@example.org"},
		access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EraseCandidate(ctx, otherHR, app.ID); err != nil {
		t.Fatal(err)
	}
	ids := e.addExpired(t, 1)
	if ok, err := e.svc.EraseSubject(ctx, audit.System("test"), e.tenantID, ids[0]); err != nil || !ok {
		t.Fatalf("erase: %v %v", ok, err)
	}

	export := func() []privacy.LedgerEntry {
		t.Helper()
		var b bytes.Buffer
		n, err := e.svc.ExportLedger(ctx, &b)
		if err != nil {
			t.Fatal(err)
		}
		entries, bad, err := privacy.ReadLedger(&b)
		if err != nil || bad != 0 || len(entries) != n {
			t.Fatalf("export of %d: %d entries, %d bad, %v", n, len(entries), bad, err)
		}
		return entries
	}
	byErasure := func(es []privacy.LedgerEntry) map[string]privacy.LedgerEntry {
		m := map[string]privacy.LedgerEntry{}
		for _, en := range es {
			if _, twice := m[en.ErasureID]; twice {
				t.Fatalf("erasure %s twice", en.ErasureID)
			}
			m[en.ErasureID] = en
		}
		return m
	}
	file := byErasure(ledgerLines(t, k.Ledger))
	got := byErasure(export())
	if len(file) != 2 || len(got) != 2 {
		t.Fatalf("file ledger %v, export %v; want the two erasures", file, got)
	}
	tenants := map[string]bool{}
	for id, f := range file {
		x, ok := got[id]
		if !ok || x.TenantID != f.TenantID || x.CandidateID != f.CandidateID || x.Reason != f.Reason || !x.At.Equal(f.At) {
			t.Fatalf("erasure %s: file %+v, export %+v", id, f, x)
		}
		tenants[x.TenantID] = true
	}
	if !tenants[e.tenantID] || !tenants[other.ID] || got[erasureOf(file, ids[0])].Reason != privacy.ReasonSubjectRequest {
		t.Fatalf("export %+v", got)
	}

	// Many erasures of one company: 2000 in all, two full pages.
	at := db.Now()
	err = k.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		for i := range 1999 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO erasures (tenant_id, id, candidate_id, reason, erased_at, ledgered) VALUES ($1, $2, $3, 'purpose_ended', $4, TRUE)`,
				e.tenantID, fmt.Sprintf("bulk-%04d", i), fmt.Sprintf("gone-%04d", i), at.Add(time.Duration(i%7)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := byErasure(export())
	if len(all) != 2001 {
		t.Fatalf("%d erasures exported, want 2001", len(all))
	}
	for i := range 1999 {
		en, ok := all[fmt.Sprintf("bulk-%04d", i)]
		if !ok || en.TenantID != e.tenantID || en.CandidateID != fmt.Sprintf("gone-%04d", i) || en.Reason != privacy.ReasonPurposeEnded ||
			!en.At.Equal(at.Add(time.Duration(i%7)*time.Second)) {
			t.Fatalf("bulk erasure %d: %+v %v", i, en, ok)
		}
	}
}

// erasureOf returns the erasure id of the candidate's entry in m.
func erasureOf(m map[string]privacy.LedgerEntry, candidateID string) string {
	for k, v := range m {
		if v.CandidateID == candidateID {
			return k
		}
	}
	return ""
}
