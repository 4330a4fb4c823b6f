package privacy

import (
	"bufio"
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
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The erasure ledger is a file of JSON lines beside the database, one line
// per erased candidate: ids, the reason and the time, nothing of the person.
// It is appended to after each erasure commits and copied with every
// backup; a restore applies it (ApplyLedger), so that a backup taken
// before an erasure never brings the person back.

// ledgerEntry is one line of the ledger.
type ledgerEntry struct {
	Version   int       `json:"v"`
	Tenant    string    `json:"tenant"`
	Candidate string    `json:"candidate"`
	Erasure   string    `json:"erasure"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// maxLedgerLine bounds a line of the ledger (an entry is about 200 bytes).
const maxLedgerLine = 4096

// ledgerMu serialises appends of this process (O_APPEND keeps lines of
// several processes whole).
var ledgerMu sync.Mutex

// ledger appends entries to the ledger, syncs it, and marks their
// erasures ledgered.
func (s *Service) ledger(ctx context.Context, tenantID string, entries []ledgerEntry) error {
	if s.opts.Ledger == "" || len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	ledgerMu.Lock()
	err := appendSync(s.opts.Ledger, b.String())
	ledgerMu.Unlock()
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		return markLedgered(ctx, tx, tenantID, entries)
	})
}

// markLedgered marks the erasures of entries (one company's) ledgered, a
// statement per chunk.
func markLedgered(ctx context.Context, tx *sql.Tx, tenantID string, entries []ledgerEntry) error {
	for len(entries) > 0 {
		n := min(len(entries), eraseChunk)
		ids := make([]string, n)
		for i, e := range entries[:n] {
			ids[i] = e.Erasure
		}
		args, in := recruit.InList([]any{tenantID}, ids)
		if _, err := tx.ExecContext(ctx, `UPDATE erasures SET ledgered = TRUE WHERE tenant_id = $1 AND id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("mark erasures ledgered: %w", err)
		}
		entries = entries[n:]
	}
	return nil
}

// appendSync appends text (whole lines) to the ledger at path and syncs it.
// A ledger that does not end with a newline ends with the fragment of a
// line a crash tore: a newline goes first, in the same write, so that the
// first new entry is a line of its own and not part of the fragment. (A
// newline too many, when another process was writing at that moment, is
// a blank line, which readers skip.)
func appendSync(path, text string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open erasure ledger: %w", err)
	}
	torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("read erasure ledger: %w", err)
	}
	if torn {
		text = "\n" + text
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write erasure ledger: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync erasure ledger: %w", err)
	}
	return f.Close()
}

// endsTorn reports whether the file f is not empty and its last byte is
// not a newline.
func endsTorn(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// LedgerPending appends to the ledger the erasures a crash (or a full
// disk) left out of it, every company's; it returns how many.
func (s *Service) LedgerPending(ctx context.Context) (int, error) {
	if s.opts.Ledger == "" {
		return 0, nil
	}
	byTenant := map[string][]ledgerEntry{}
	err := s.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		q, err := tx.QueryContext(ctx, `SELECT tenant_id, id, candidate_id, reason, erased_at FROM erasures WHERE NOT ledgered ORDER BY erased_at, id`)
		if err != nil {
			return fmt.Errorf("read erasures: %w", err)
		}
		defer q.Close()
		for q.Next() {
			e := ledgerEntry{Version: 1}
			if err := q.Scan(&e.Tenant, &e.Erasure, &e.Candidate, &e.Reason, &e.At); err != nil {
				return err
			}
			e.At = e.At.UTC()
			byTenant[e.Tenant] = append(byTenant[e.Tenant], e)
		}
		return q.Err()
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for t, es := range byTenant {
		if err := s.ledger(ctx, t, es); err != nil {
			return n, err
		}
		n += len(es)
	}
	return n, nil
}

// LedgerEntry is an erasure as the ledger keeps it.
type LedgerEntry struct {
	TenantID, CandidateID, ErasureID string
	Reason                           Reason
	At                               time.Time
}

// ErrLedgerLine is returned (wrapped) for a line that is not an entry.
var ErrLedgerLine = errors.New("not an erasure ledger entry")

// ParseLedgerLine reads one line of the ledger.
func ParseLedgerLine(line []byte) (LedgerEntry, error) {
	if len(line) > maxLedgerLine {
		return LedgerEntry{}, fmt.Errorf("%w: too long", ErrLedgerLine)
	}
	var e ledgerEntry
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return LedgerEntry{}, fmt.Errorf("%w: %v", ErrLedgerLine, err)
	}
	if dec.More() {
		return LedgerEntry{}, fmt.Errorf("%w: trailing data", ErrLedgerLine)
	}
	if e.Version != 1 || !validID(e.Tenant) || !validID(e.Candidate) || !validID(e.Erasure) || !slices.Contains(Reasons, Reason(e.Reason)) || e.At.IsZero() {
		return LedgerEntry{}, fmt.Errorf("%w: missing or bad field", ErrLedgerLine)
	}
	return LedgerEntry{TenantID: e.Tenant, CandidateID: e.Candidate, ErasureID: e.Erasure, Reason: Reason(e.Reason), At: e.At.UTC()}, nil
}

// validID accepts the ids Kandidat makes (and those of imported data):
// short, printable ASCII without spaces or quotes.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			return false
		}
	}
	return true
}

// ReadLedger reads the ledger at r: its entries, and how many lines were
// not entries (a torn last line after a crash, or damage). A line longer
// than an entry can be is counted and skipped without being held in
// memory; only a failure to read r is an error (with the entries read
// until then).
func ReadLedger(r io.Reader) ([]LedgerEntry, int, error) {
	br := bufio.NewReaderSize(r, 4096)
	var out []LedgerEntry
	bad := 0
	// line collects the current line up to its newline and a carriage
	// return before it; a longer one is discarded chunk by chunk.
	line := make([]byte, 0, 512)
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxLedgerLine+2 {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue // the line goes on
		}
		if err != nil && err != io.EOF {
			return out, bad, fmt.Errorf("read erasure ledger: %w", err)
		}
		if tooLong {
			bad++
		} else if e, ok, isBad := ledgerLine(line); ok {
			out = append(out, e)
		} else if isBad {
			bad++
		}
		if err == io.EOF {
			return out, bad, nil
		}
		line, tooLong = line[:0], false
	}
}

// ledgerLine reads one line of a ledger as ReadLedger finds it (with its
// newline, and a carriage return before it, if any): an entry (ok), a
// line that is not one (isBad), or a blank line (neither).
func ledgerLine(line []byte) (e LedgerEntry, ok, isBad bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxLedgerLine {
		return LedgerEntry{}, false, true
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return LedgerEntry{}, false, false
	}
	e, err := ParseLedgerLine(line)
	if err != nil {
		return LedgerEntry{}, false, true
	}
	return e, true, false
}

// ExportLedger writes to w a ledger line (the format of the ledger file)
// for every erasure the database records, every company's, and returns
// how many. On PostgreSQL several instances, each with its own data
// directory and ledger file, erase in one database; the export is what
// every one of them erased, for a backup to carry beside the ledger file
// (ApplyLedger reads either).
func (s *Service) ExportLedger(ctx context.Context, w io.Writer) (int, error) {
	tenants, err := s.tenants(ctx, "")
	if err != nil {
		return 0, err
	}
	const page = 1000
	n := 0
	var b bytes.Buffer
	for _, tenantID := range tenants {
		// Keyset pages on the primary key (tenant_id, id), each in a
		// transaction that declares the company.
		after := ""
		for {
			entries := make([]ledgerEntry, 0, page)
			err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
				q, err := tx.QueryContext(ctx, `SELECT id, candidate_id, reason, erased_at FROM erasures
					WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT `+fmt.Sprint(page), tenantID, after)
				if err != nil {
					return fmt.Errorf("read erasures: %w", err)
				}
				defer q.Close()
				for q.Next() {
					e := ledgerEntry{Version: 1, Tenant: tenantID}
					if err := q.Scan(&e.Erasure, &e.Candidate, &e.Reason, &e.At); err != nil {
						return fmt.Errorf("read erasures: %w", err)
					}
					e.At = e.At.UTC()
					entries = append(entries, e)
				}
				return q.Err()
			})
			if err != nil {
				return n, err
			}
			b.Reset()
			for _, e := range entries {
				line, err := json.Marshal(e)
				if err != nil {
					return n, err
				}
				b.Write(line)
				b.WriteByte('\n')
			}
			if _, err := w.Write(b.Bytes()); err != nil {
				return n, fmt.Errorf("write erasure ledger: %w", err)
			}
			n += len(entries)
			if len(entries) < page {
				break
			}
			after = entries[len(entries)-1].Erasure
		}
	}
	return n, nil
}

// ApplyReport is what applying a ledger did.
type ApplyReport struct {
	// Entries is how many entries the ledger had; Bad how many lines were not entries.
	Entries, Bad int
	// Erased is how many candidates the database still held and lost now.
	Erased int
}

// ApplyLedger erases again every candidate the ledger at path names whom
// the database still holds (a restored backup): the step a restore runs
// before the installation serves. It is idempotent.
func (s *Service) ApplyLedger(ctx context.Context, path string) (ApplyReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return ApplyReport{}, fmt.Errorf("open erasure ledger: %w", err)
	}
	defer f.Close()
	entries, bad, err := ReadLedger(f)
	rep := ApplyReport{Entries: len(entries), Bad: bad}
	if err != nil {
		return rep, err
	}
	type group struct {
		tenantID string
		reason   Reason
	}
	groups := map[group][]LedgerEntry{}
	for _, e := range entries {
		g := group{e.TenantID, e.Reason}
		groups[g] = append(groups[g], e)
	}
	for g, es := range groups {
		tenantID, reason := g.tenantID, g.reason
		for len(es) > 0 {
			n := min(len(es), eraseChunk)
			var ids []string
			for _, e := range es[:n] {
				ids = append(ids, e.CandidateID)
			}
			// The ledger has these already: the erasure is recorded in the
			// database only.
			var done erased
			err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
				var exists int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE id = $1`, tenantID).Scan(&exists); err != nil || exists == 0 {
					return err
				}
				var err error
				done, err = s.eraseTx(ctx, tx, tenantID, ids, reason, audit.Actor{Kind: audit.ActorSystem, ID: "erasure-ledger"}, condAlways)
				if err != nil || len(done.candidates) == 0 {
					return err
				}
				// The ledger names these already; erasures of the restored
				// database that never reached a ledger stay unmarked, for
				// LedgerPending to append.
				return markLedgered(ctx, tx, tenantID, done.erasures)
			})
			if err != nil {
				return rep, err
			}
			done.erasures = nil
			s.afterErase(ctx, done)
			rep.Erased += len(done.candidates)
			es = es[n:]
		}
	}
	return rep, nil
}
