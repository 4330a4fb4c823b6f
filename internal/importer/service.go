// Package importer brings candidates (and their positions and
// applications) from another applicant tracking system into a company:
// CSV or JSON Lines files with a column mapping saved per company, a dry
// run that reports every row's problems before anything is written, and
// an import in batches through recruit's import path (the seed's), which
// commits the run's progress with each batch so that an interrupted run
// continues where it stopped and a second run of a file adds nothing.
// docs/import.md is the user's side of it.
package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/recruit"
)

// Options are what the service builds on.
type Options struct {
	Recruit *recruit.Service
	Audit   *audit.Log
	// Blobs keeps an uploaded file (encrypted) until its run is done.
	Blobs  *blob.Store
	Logger *slog.Logger
	// BatchSize is the people per transaction (default 500).
	BatchSize int
	// Now is the clock (tests).
	Now func() time.Time
}

// Service is the importer.
type Service struct {
	db   *db.DB
	o    Options
	mu   sync.Mutex
	busy map[string]bool // companies with a run going on in this process
	wg   sync.WaitGroup
}

// NewService returns the importer.
func NewService(d *db.DB, o Options) *Service {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, o: o, busy: map[string]bool{}}
}

// Wait waits for the runs started in the background (tests, shutdown).
func (s *Service) Wait() { s.wg.Wait() }

// The service's refusals.
var (
	ErrNotFound = fault.New(fault.ErrNotFound, "import not found", "")
	ErrBusy     = fault.New(fault.ErrBusy, "an import of the company is running", "import.error_busy")
	ErrState    = fault.New(fault.ErrConflict, "import in another state", "import.error_state")
	ErrNoFile   = fault.NewField(fault.ErrInvalid, "file", "no file", "import.error_no_file")
	errMoved    = errors.New("import run moved on meanwhile")
)

// authorize: importing writes candidates into every position of the
// company, so it needs what an HR manager holds: every position and
// adding candidates.
func authorize(a access.Actor) error {
	if a.TenantID == "" || !a.Can(access.AllPositions) || !a.Can(access.AddCandidates) {
		return fault.ErrForbidden
	}
	return nil
}

// Permissions are what an actor needs to import (the operator's command
// passes them).
var Permissions = []access.Permission{access.AllPositions, access.AddCandidates, access.CreatePositions}

// Input is a file to check or import.
type Input struct {
	// Open opens the file (again: a run reads it twice, to check and to write).
	Open    func() (io.ReadCloser, error)
	Format  string
	Mapping *Mapping
	// Documents, when set, holds the files the rows name.
	Documents Documents
}

// Report is what a check or a run found and did.
type Report struct {
	Rows     int `json:"rows"`
	Accepted int `json:"accepted"`
	// New is the candidates the import adds, Merged the rows that join a
	// candidate the company (or an earlier row) has, Skipped the rows
	// imported before.
	New      int       `json:"new"`
	Merged   int       `json:"merged"`
	Skipped  int       `json:"skipped"`
	Rejected int       `json:"rejected"`
	Problems []Problem `json:"problems"`
	// More is how many problems were left out of the list (it keeps MaxProblems).
	More int `json:"more"`
	// Positions are the positions the import would add.
	Positions []string `json:"positions,omitempty"`
}

// MaxProblems bounds the problems a report lists.
const MaxProblems = 1000

func (r *Report) add(p Problem) {
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
		return
	}
	r.More++
}

// HasProblems reports whether a row was refused.
func (r *Report) HasProblems() bool { return r.Rejected > 0 }

// Check is the dry run: it reads every row, checks it, and reports what
// the import would do, writing nothing.
func (s *Service) Check(ctx context.Context, a access.Actor, in Input) (*Report, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	return s.check(ctx, a, in)
}

// checked is a row the check accepted.
type checked struct {
	row
}

// check reads the file, checks each row and returns the report.
func (s *Service) check(ctx context.Context, a access.Actor, in Input) (*Report, error) {
	if in.Mapping == nil {
		return nil, ErrMappingNoEmail
	}
	if err := in.Mapping.Check(); err != nil {
		return nil, err
	}
	f, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := Open(f, in.Format)
	if err != nil {
		return nil, err
	}
	pl := newPlan(in.Mapping, src.Header())
	rep := &Report{Problems: []Problem{}}
	now := s.o.Now()
	var rows []checked
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		rep.Rows++
		r, probs := pl.makeRow(a.TenantID, rec, now, a.UserID != "")
		probs = append(probs, s.checkDocuments(in.Documents, &r)...)
		if len(probs) > 0 {
			rep.Rejected++
			for _, p := range probs {
				rep.add(p)
			}
			continue
		}
		rows = append(rows, checked{row: r})
	}
	// What the import will do with each accepted row: skip it (its key
	// was written), merge it (its email is known, or came earlier in the
	// file), or add a candidate.
	keys, err := s.knownKeys(ctx, a.TenantID, rows)
	if err != nil {
		return nil, err
	}
	emails := make([]string, 0, len(rows))
	for _, r := range rows {
		emails = append(emails, r.person.Candidate.Email)
	}
	slices.Sort(emails)
	known, err := s.o.Recruit.KnownEmails(ctx, a.TenantID, slices.Compact(emails))
	if err != nil {
		return nil, err
	}
	positions, err := s.positions(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	seenKey, seenEmail, newPos := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		rep.Accepted++
		switch email := r.person.Candidate.Email; {
		case keys[r.key] || seenKey[r.key]:
			rep.Skipped++
			rep.add(Problem{Line: r.line, Key: "import.note_imported", Note: true})
			continue
		case known[email]:
			rep.Merged++
			rep.add(Problem{Line: r.line, Field: FieldEmail, Key: "import.note_merge_existing", Note: true})
		case seenEmail[email]:
			rep.Merged++
			rep.add(Problem{Line: r.line, Field: FieldEmail, Key: "import.note_duplicate_in_file", Note: true})
		default:
			rep.New++
		}
		seenKey[r.key], seenEmail[r.person.Candidate.Email] = true, true
		if _, ok := positions.findRow(a.TenantID, &r.row); !ok && (r.position != "" || r.positionRef != "") {
			t := r.position
			if t == "" {
				t = r.positionRef
			}
			if !newPos[t] {
				newPos[t] = true
				rep.Positions = append(rep.Positions, t)
			}
		}
	}
	if len(rep.Positions) > 0 && a.UserID == "" {
		rep.add(Problem{Field: FieldPosition, Key: "import.positions_need_user"})
		rep.Rejected++
	}
	return rep, nil
}

func (s *Service) checkDocuments(docs Documents, r *row) []Problem {
	var probs []Problem
	for _, name := range r.documents {
		if docs == nil {
			probs = append(probs, Problem{Line: r.line, Field: FieldDocuments, Key: "import.document_missing"})
			continue
		}
		data, err := docs.Read(name)
		key := ""
		if err == nil {
			key = recruit.DocumentError(data)
		} else {
			key = MessageKey(err, "import.document_missing")
		}
		if key != "" {
			probs = append(probs, Problem{Line: r.line, Field: FieldDocuments, Key: key})
		}
	}
	return probs
}

// MessageKey is the message key an error carries for the user (the first
// one), or fallback.
func MessageKey(err error, fallback string) string {
	for _, k := range fault.Messages(err) {
		if k != "" {
			return k
		}
	}
	return fallback
}

// knownKeys returns which of the rows' keys were written by an earlier run.
func (s *Service) knownKeys(ctx context.Context, tenantID string, rows []checked) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		for i := 0; i < len(rows); i += 500 {
			chunk := rows[i:min(i+500, len(rows))]
			args := []any{tenantID}
			ph := make([]string, len(chunk))
			for j, r := range chunk {
				args = append(args, r.key)
				ph[j] = "$" + strconv.Itoa(j+2)
			}
			q, err := tx.QueryContext(ctx, `SELECT key FROM import_keys WHERE tenant_id = $1 AND key IN (`+strings.Join(ph, ", ")+`)`, args...)
			if err != nil {
				return err
			}
			for q.Next() {
				var k string
				if err := q.Scan(&k); err != nil {
					q.Close()
					return err
				}
				out[k] = true
			}
			q.Close()
			if err := q.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read import keys: %w", err)
	}
	return out, nil
}

// positionIndex finds the company's positions by folded title and by the
// external ids earlier imports added positions for.
type positionIndex struct {
	byTitle map[string]string
	byRef   map[string]string
}

func (p positionIndex) find(title string) (string, bool) {
	id, ok := p.byTitle[foldTitle(title)]
	return id, ok
}

func (s *Service) positions(ctx context.Context, tenantID string) (positionIndex, error) {
	idx := positionIndex{byTitle: map[string]string{}, byRef: map[string]string{}}
	ps, err := s.o.Recruit.ImportPositionRefs(ctx, tenantID)
	if err != nil {
		return idx, err
	}
	for _, p := range ps {
		k := foldTitle(p.Title)
		if _, ok := idx.byTitle[k]; !ok {
			idx.byTitle[k] = p.ID
		}
	}
	err = s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		q, err := tx.QueryContext(ctx, `SELECT key, target FROM import_keys WHERE tenant_id = $1 AND target <> ''`, tenantID)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var k, t string
			if err := q.Scan(&k, &t); err != nil {
				return err
			}
			idx.byRef[k] = t
		}
		return q.Err()
	})
	if err != nil {
		return idx, fmt.Errorf("read imported positions: %w", err)
	}
	return idx, nil
}

// findRow finds a row's position: by its external id (the index holds the
// ids' keys, never the file's ids), else by title.
func (p positionIndex) findRow(tenantID string, r *row) (string, bool) {
	if r.positionRef != "" {
		id, ok := p.byRef[positionKey(tenantID, r.positionRef)]
		return id, ok
	}
	return p.find(r.position)
}

// newID makes the ids of runs and of the positions an import adds.
var newID = id.New
