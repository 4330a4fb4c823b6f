package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/search"
)

// The states of a run.
const (
	StatusUploaded = "uploaded"
	StatusChecking = "checking"
	StatusChecked  = "checked"
	StatusRunning  = "running"
	StatusDone     = "done"
	StatusFailed   = "failed"
)

// lease is how long a worker holds a run without writing a batch: a run
// whose worker died is taken over once it lapses.
const lease = 2 * time.Minute

// Run is an import run as its page shows it.
type Run struct {
	ID, CreatedBy, Status, Format, FileName string
	Header                                  []string
	Mapping                                 *Mapping
	Report                                  *Report
	TotalRows, RowsDone                     int
	Created, Merged, Skipped, Problems      int
	// Error is the message key of why the run stopped.
	Error        string
	HasDocuments bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   time.Time
	// Held says a worker holds the run now (its lease has not lapsed).
	Held bool
}

// Percent is how much of the file the run has written.
func (r *Run) Percent() int {
	if r.TotalRows == 0 {
		return 0
	}
	return min(100, r.RowsDone*100/r.TotalRows)
}

const selectRun = `SELECT id, created_by, status, format, file_name, header, mapping, report, total_rows, rows_done, created, merged, skipped, problems,
	error, documents_key IS NOT NULL, created_at, updated_at, finished_at, lease_until FROM import_runs`

func scanRun(sc interface{ Scan(...any) error }, now time.Time) (*Run, error) {
	r := &Run{}
	var header, mapping, report string
	var finished, leaseUntil sql.NullTime
	if err := sc.Scan(&r.ID, &r.CreatedBy, &r.Status, &r.Format, &r.FileName, &header, &mapping, &report, &r.TotalRows, &r.RowsDone,
		&r.Created, &r.Merged, &r.Skipped, &r.Problems, &r.Error, &r.HasDocuments, &r.CreatedAt, &r.UpdatedAt, &finished, &leaseUntil); err != nil {
		return nil, err
	}
	r.FinishedAt = finished.Time
	r.Held = (r.Status == StatusRunning || r.Status == StatusChecking) && leaseUntil.Valid && leaseUntil.Time.After(now)
	_ = json.Unmarshal([]byte(header), &r.Header)
	if mapping != "" {
		r.Mapping, _ = DecodeMapping(mapping)
	}
	if report != "" {
		r.Report = &Report{}
		if json.Unmarshal([]byte(report), r.Report) != nil {
			r.Report = nil
		}
	}
	return r, nil
}

// Run returns a run of the actor's company.
func (s *Service) Run(ctx context.Context, a access.Actor, runID string) (*Run, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	var r *Run
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) (err error) {
		r, err = scanRun(tx.QueryRowContext(ctx, selectRun+` WHERE tenant_id = $1 AND id = $2`, a.TenantID, runID), s.o.Now())
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read import run: %w", err)
	}
	return r, nil
}

// Runs lists the company's newest runs (at most 20).
func (s *Service) Runs(ctx context.Context, a access.Actor) ([]*Run, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	var out []*Run
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		q, err := tx.QueryContext(ctx, selectRun+` WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20`, a.TenantID)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			r, err := scanRun(q, s.o.Now())
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return q.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list import runs: %w", err)
	}
	return out, nil
}

// Upload limits of the page (the command line reads files of any size).
const (
	MaxUploadFileBytes = 64 << 20
	MaxUploadDocsBytes = 256 << 20
)

// FormatOf guesses a file's format from its name: JSON Lines for .jsonl
// and .ndjson, CSV otherwise.
func FormatOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jsonl", ".ndjson":
		return JSONL
	}
	return CSV
}

// Upload keeps a file (and a zip of its documents, when docs is set)
// encrypted in the file store and opens a run for it, reading its header
// for the mapping form.
func (s *Service) Upload(ctx context.Context, a access.Actor, fileName, format string, file, docs io.Reader) (*Run, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	if format == "" {
		format = FormatOf(fileName)
	}
	if format != CSV && format != JSONL {
		return nil, ErrFormat
	}
	runID := newID()
	obj, err := s.o.Blobs.Put(ctx, a.TenantID, runID+"-file", file, MaxUploadFileBytes)
	if errors.Is(err, blob.ErrTooLarge) {
		return nil, fault.Field("file", "import.error_file_too_large")
	}
	if err != nil {
		return nil, fmt.Errorf("store import file: %w", err)
	}
	if obj.Size == 0 {
		s.deleteBlobs(ctx, a.TenantID, runID)
		return nil, ErrNoFile
	}
	var docsKey []byte
	if docs != nil {
		d, err := s.o.Blobs.Put(ctx, a.TenantID, runID+"-documents", docs, MaxUploadDocsBytes)
		if errors.Is(err, blob.ErrTooLarge) {
			s.deleteBlobs(ctx, a.TenantID, runID)
			return nil, fault.Field("documents", "import.error_documents_too_large")
		}
		if err != nil {
			s.deleteBlobs(ctx, a.TenantID, runID)
			return nil, fmt.Errorf("store import documents: %w", err)
		}
		if d.Size > 0 {
			docsKey = d.Key
		}
	}
	header, err := s.readHeader(ctx, a.TenantID, runID, obj.Key, format)
	if err != nil {
		s.deleteBlobs(ctx, a.TenantID, runID)
		return nil, err
	}
	hj, _ := json.Marshal(header)
	now := db.Time(s.o.Now())
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO import_runs (tenant_id, id, created_by, status, format, file_name, file_key, documents_key, header, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`, a.TenantID, runID, a.UserID, StatusUploaded, format, cleanFileName(fileName), obj.Key, docsKey, string(hj), now)
		return err
	})
	if err != nil {
		s.deleteBlobs(ctx, a.TenantID, runID)
		return nil, fmt.Errorf("create import run: %w", err)
	}
	return s.Run(ctx, a, runID)
}

// cleanFileName keeps a file's name for the list: its base, printable, at
// most 120 characters.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	if name == "." || name == "/" {
		return ""
	}
	return name
}

func (s *Service) readHeader(ctx context.Context, tenantID, runID string, key []byte, format string) ([]string, error) {
	f, err := s.o.Blobs.Open(ctx, tenantID, runID+"-file", key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := Open(f, format)
	if err != nil {
		return nil, err
	}
	return src.Header(), nil
}

func (s *Service) deleteBlobs(ctx context.Context, tenantID, runID string) {
	for _, suffix := range []string{"-file", "-documents"} {
		if err := s.o.Blobs.Delete(context.WithoutCancel(ctx), tenantID, runID+suffix); err != nil && !errors.Is(err, blob.ErrNotFound) {
			s.o.Logger.Warn("delete import file", "tenant_id", tenantID, "run_id", runID, "error", err.Error())
		}
	}
}

// inputOf opens a stored run's file and documents.
func (s *Service) inputOf(ctx context.Context, tenantID, runID string, m *Mapping) (Input, error) {
	var format string
	var fileKey, docsKey []byte
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT format, file_key, documents_key FROM import_runs WHERE tenant_id = $1 AND id = $2`, tenantID, runID).
			Scan(&format, &fileKey, &docsKey)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Input{}, ErrNotFound
	}
	if err != nil {
		return Input{}, err
	}
	if fileKey == nil {
		return Input{}, ErrState // done: its file is gone
	}
	in := Input{Format: format, Mapping: m, Open: func() (io.ReadCloser, error) {
		return s.o.Blobs.Open(ctx, tenantID, runID+"-file", fileKey)
	}}
	if docsKey != nil {
		b, err := s.o.Blobs.ReadAll(ctx, tenantID, runID+"-documents", docsKey)
		if err != nil {
			return Input{}, err
		}
		if in.Documents, err = ZipBytes(b); err != nil {
			return Input{}, err
		}
	}
	return in, nil
}

// CheckRun is the page's dry run of an uploaded file with a mapping: the
// report is kept with the run (row numbers and message keys only). With
// saveAs, the mapping is saved under that name too.
func (s *Service) CheckRun(ctx context.Context, a access.Actor, runID string, m *Mapping, saveAs string) (*Run, error) {
	r, err := s.Run(ctx, a, runID)
	if err != nil {
		return nil, err
	}
	if r.Status != StatusUploaded && r.Status != StatusChecked && !(r.Status == StatusChecking && !r.Held) {
		return nil, ErrState
	}
	if err := s.prepareCheck(ctx, a, m, saveAs); err != nil {
		return nil, err
	}
	if err := s.checkStored(ctx, a, runID, m, "'uploaded', 'checked', 'checking'"); err != nil {
		return nil, err
	}
	return s.Run(ctx, a, runID)
}

func (s *Service) prepareCheck(ctx context.Context, a access.Actor, m *Mapping, saveAs string) error {
	if err := m.Check(); err != nil {
		return err
	}
	if saveAs != "" {
		m.Name = saveAs
		if err := s.SaveMapping(ctx, a, m); err != nil {
			return err
		}
	}
	return nil
}

// StartCheck is the page's dry run, in the background (a large file takes
// longer than a request may): the run is "checking" until its report is
// kept. One check or run per company at a time in this process.
func (s *Service) StartCheck(ctx context.Context, a access.Actor, runID string, m *Mapping, saveAs string) error {
	r, err := s.Run(ctx, a, runID)
	if err != nil {
		return err
	}
	if r.Status != StatusUploaded && r.Status != StatusChecked && !(r.Status == StatusChecking && !r.Held) {
		return ErrState
	}
	if err := s.prepareCheck(ctx, a, m, saveAs); err != nil {
		return err
	}
	s.mu.Lock()
	if s.busy[a.TenantID] {
		s.mu.Unlock()
		return ErrBusy
	}
	s.busy[a.TenantID] = true
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		delete(s.busy, a.TenantID)
		s.mu.Unlock()
	}
	now := db.Time(s.o.Now())
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_runs SET status = 'checking', mapping = $3, error = '', lease_until = $4, updated_at = $5
			WHERE tenant_id = $1 AND id = $2 AND (status IN ('uploaded', 'checked') OR (status = 'checking' AND (lease_until IS NULL OR lease_until < $5)))`,
			a.TenantID, runID, m.Encode(), now.Add(lease), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return nil
	})
	if err != nil {
		release()
		return err
	}
	bg := context.WithoutCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		if err := s.checkStored(bg, a, runID, m, "'checking'"); err != nil {
			key := MessageKey(err, "import.error_internal")
			if fault.Messages(err) == nil {
				s.o.Logger.Error("import check", "tenant_id", a.TenantID, "run_id", runID, "error", err.Error())
			}
			_ = s.db.InTx(bg, a.TenantID, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(bg, `UPDATE import_runs SET status = 'uploaded', error = $3, lease_until = NULL, updated_at = $4
					WHERE tenant_id = $1 AND id = $2 AND status = 'checking'`, a.TenantID, runID, key, db.Time(s.o.Now()))
				return err
			})
		}
	}()
	return nil
}

// checkStored checks a stored run's file with m and keeps the report, if
// the run is in one of the states from (an SQL list).
func (s *Service) checkStored(ctx context.Context, a access.Actor, runID string, m *Mapping, from string) error {
	in, err := s.inputOf(ctx, a.TenantID, runID, m)
	if err != nil {
		return err
	}
	if in.Documents != nil {
		defer in.Documents.Close()
	}
	rep, err := s.check(ctx, a, in)
	if err != nil {
		return err
	}
	rj, _ := json.Marshal(rep)
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_runs SET status = $3, mapping = $4, report = $5, total_rows = $6, updated_at = $7, error = '', lease_until = NULL
			WHERE tenant_id = $1 AND id = $2 AND status IN (`+from+`)`, a.TenantID, runID, StatusChecked, m.Encode(), string(rj), rep.Rows, db.Time(s.o.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return nil
	})
}

// take gives the run to the caller: a checked or failed run, or a running
// one whose worker's lease lapsed (an interrupted run), by a conditional
// write in the transaction that records import.started.
func (s *Service) take(ctx context.Context, a access.Actor, runID string) (*Run, error) {
	now := db.Time(s.o.Now())
	var r *Run
	err := s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_runs SET status = 'running', lease_until = $3, error = '', updated_at = $4
			WHERE tenant_id = $1 AND id = $2 AND (status IN ('checked', 'failed') OR (status = 'running' AND (lease_until IS NULL OR lease_until < $4)))`,
			a.TenantID, runID, now.Add(lease), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		if r, err = scanRun(tx.QueryRowContext(ctx, selectRun+` WHERE tenant_id = $1 AND id = $2`, a.TenantID, runID), now); err != nil {
			return err
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ImportStarted, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "import", ID: runID}},
			Details: map[string]string{"format": r.Format, "rows": strconv.Itoa(r.TotalRows), "resumed": strconv.FormatBool(r.RowsDone > 0)}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Start starts a checked run in the background (one run per company at a
// time in this process); the page follows its progress. A run that was
// interrupted (its worker's lease lapsed) or failed continues where its
// last batch ended.
func (s *Service) Start(ctx context.Context, a access.Actor, runID string) error {
	if err := authorize(a); err != nil {
		return err
	}
	s.mu.Lock()
	if s.busy[a.TenantID] {
		s.mu.Unlock()
		return ErrBusy
	}
	s.busy[a.TenantID] = true
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		delete(s.busy, a.TenantID)
		s.mu.Unlock()
	}
	r, err := s.take(ctx, a, runID)
	if err != nil {
		release()
		return err
	}
	in, err := s.inputOf(ctx, a.TenantID, runID, r.Mapping)
	if err != nil || r.Mapping == nil {
		release()
		if err == nil {
			err = ErrState
		}
		return err
	}
	bg := context.WithoutCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		if in.Documents != nil {
			defer in.Documents.Close()
		}
		if _, err := s.execute(bg, a, r, in, nil); err != nil {
			s.o.Logger.Error("import run", "tenant_id", a.TenantID, "run_id", runID, "error", err.Error())
		}
	}()
	return nil
}

// FileRun is a file the command line imports.
type FileRun struct {
	Input
	FileName string
	// SHA256 is the file's hash: an unfinished run of the same file is
	// continued rather than started again.
	SHA256 string
	// Progress is told how many of the file's rows are written, and of how many.
	Progress func(done, total int)
}

// Import checks a file and imports its valid rows, in the caller's
// goroutine (the command line). An unfinished run of the same file (same
// hash) continues after its last batch.
func (s *Service) Import(ctx context.Context, a access.Actor, f FileRun) (*Run, *Report, error) {
	if err := authorize(a); err != nil {
		return nil, nil, err
	}
	rep, err := s.check(ctx, a, f.Input)
	if err != nil {
		return nil, nil, err
	}
	if len(rep.Positions) > 0 && a.UserID == "" {
		return nil, rep, fault.Field("as", "import.positions_need_user")
	}
	var runID string
	now := db.Time(s.o.Now())
	err = s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM import_runs WHERE tenant_id = $1 AND file_sha256 = $2 AND status IN ('running', 'failed')
			AND (lease_until IS NULL OR lease_until < $3) ORDER BY created_at DESC, id DESC LIMIT 1`, a.TenantID, f.SHA256, now).Scan(&runID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("find unfinished import: %w", err)
	}
	rj, _ := json.Marshal(rep)
	if runID == "" {
		runID = newID()
		err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO import_runs (tenant_id, id, created_by, status, format, file_name, file_sha256, mapping, report, total_rows, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, a.TenantID, runID, a.UserID, StatusChecked, f.Format, cleanFileName(f.FileName), f.SHA256,
				f.Mapping.Encode(), string(rj), rep.Rows, now)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("create import run: %w", err)
		}
	}
	r, err := s.take(ctx, a, runID)
	if err != nil {
		return nil, nil, err
	}
	r, err = s.execute(ctx, a, r, f.Input, f.Progress)
	return r, rep, err
}

// batchRow is a row of the batch being written, and the line it came from.
type batchRow struct {
	row
	positionID string // the position's id, once known
}

// execute writes the run's rows from its RowsDone on, a batch per
// transaction through recruit.ImportPeople, whose transaction also
// advances the run (conditional on where it stood, so two workers never
// write one batch twice). A row with problems is counted and left out.
func (s *Service) execute(ctx context.Context, a access.Actor, r *Run, in Input, progress func(done, total int)) (*Run, error) {
	if in.Mapping == nil {
		in.Mapping = r.Mapping
	}
	err := s.write(ctx, a, r, in, progress)
	if err != nil && ctx.Err() != nil {
		return r, err // interrupted: the run stays running until its lease lapses, then continues
	}
	status, key := StatusDone, ""
	if err != nil {
		status, key = StatusFailed, MessageKey(err, "import.error_internal")
	}
	now := db.Time(s.o.Now())
	ferr := s.db.InTx(context.WithoutCancel(ctx), a.TenantID, func(tx *sql.Tx) error {
		fin := any(nil)
		if status == StatusDone {
			fin = now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_runs SET status = $3, error = $4, finished_at = $5, lease_until = NULL, updated_at = $6,
			file_key = CASE WHEN $3 = 'done' THEN NULL ELSE file_key END, documents_key = CASE WHEN $3 = 'done' THEN NULL ELSE documents_key END
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, r.ID, status, key, fin, now); err != nil {
			return err
		}
		var c, m, sk, p int
		if err := tx.QueryRowContext(ctx, `SELECT created, merged, skipped, problems FROM import_runs WHERE tenant_id = $1 AND id = $2`, a.TenantID, r.ID).
			Scan(&c, &m, &sk, &p); err != nil {
			return err
		}
		return s.o.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.ImportFinished, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "import", ID: r.ID}},
			Details: map[string]string{"status": status, "created": strconv.Itoa(c), "merged": strconv.Itoa(m), "skipped": strconv.Itoa(sk), "problems": strconv.Itoa(p)}})
	})
	if ferr != nil {
		return r, errors.Join(err, ferr)
	}
	if status == StatusDone {
		s.deleteBlobs(ctx, a.TenantID, r.ID)
	}
	out, rerr := s.Run(context.WithoutCancel(ctx), a, r.ID)
	if rerr == nil {
		r = out
	}
	if err == nil {
		s.o.Logger.Info("import done", "tenant_id", a.TenantID, "run_id", r.ID, "created", r.Created, "merged", r.Merged, "skipped", r.Skipped, "problems", r.Problems)
	}
	return r, err
}

func (s *Service) write(ctx context.Context, a access.Actor, r *Run, in Input, progress func(done, total int)) error {
	f, err := in.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := Open(f, in.Format)
	if err != nil {
		return err
	}
	pl := newPlan(in.Mapping, src.Header())
	positions, err := s.positions(ctx, a.TenantID)
	if err != nil {
		return err
	}
	lang, err := s.companyLanguage(ctx, a.TenantID)
	if err != nil {
		return err
	}
	done, now := r.RowsDone, s.o.Now()
	for n := 0; n < done; n++ { // the rows the run wrote before it was interrupted
		if _, err := src.Next(); err != nil {
			return err
		}
	}
	if progress != nil {
		progress(done, r.TotalRows)
	}
	var batch []batchRow
	problems, read := 0, done
	flush := func() error {
		if err := s.writeBatch(ctx, a, r, batch, &positions, lang, in.Documents, done, read, problems); err != nil {
			return err
		}
		done, batch, problems = read, batch[:0], 0
		if progress != nil {
			progress(done, r.TotalRows)
		}
		return nil
	}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		read++
		row, probs := pl.makeRow(a.TenantID, rec, now, a.UserID != "")
		probs = append(probs, s.checkDocuments(in.Documents, &row)...)
		if len(probs) == 0 && a.UserID == "" {
			if _, ok := positions.findRow(a.TenantID, &row); !ok && (row.position != "" || row.positionRef != "") {
				probs = append(probs, Problem{Line: row.line, Field: FieldPosition, Key: "import.positions_need_user"})
			}
		}
		if len(probs) > 0 {
			problems++
		} else {
			batch = append(batch, batchRow{row: row})
		}
		if len(batch) >= s.o.BatchSize || read-done >= 4*s.o.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if read > done || len(batch) > 0 {
		return flush()
	}
	return nil
}

func (s *Service) companyLanguage(ctx context.Context, tenantID string) (string, error) {
	var lang string
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT default_language FROM tenants WHERE id = $1`, tenantID).Scan(&lang)
	})
	return lang, err
}

// writeBatch adds the positions the batch names that the company lacks
// (closed, owned by the importing user), then writes the batch's people
// with the run's progress (from done to read rows, with problems more
// rows refused) in one transaction.
func (s *Service) writeBatch(ctx context.Context, a access.Actor, r *Run, batch []batchRow, positions *positionIndex, lang string, docs Documents,
	done, read, problems int) error {
	var add []recruit.ImportPosition
	refs := map[string]string{}   // key -> new position id
	titles := map[string]string{} // folded title -> new position id
	for i := range batch {
		b := &batch[i]
		if b.row.position == "" && b.positionRef == "" {
			continue
		}
		if id, ok := positions.findRow(a.TenantID, &b.row); ok {
			b.positionID = id
			continue
		}
		title := b.row.position
		if title == "" {
			title = b.positionRef
		}
		var pid string
		if b.positionRef != "" {
			k := positionKey(a.TenantID, b.positionRef)
			if pid = refs[k]; pid == "" {
				pid = newID()
				refs[k] = pid
				add = append(add, recruit.ImportPosition{ID: pid, OwnerID: a.UserID, Status: recruit.Closed, CreatedAt: s.o.Now(),
					Input: recruit.PositionInput{Title: title, Language: lang}})
			}
		} else {
			k := foldTitle(title)
			if pid = titles[k]; pid == "" {
				pid = newID()
				titles[k] = pid
				add = append(add, recruit.ImportPosition{ID: pid, OwnerID: a.UserID, Status: recruit.Closed, CreatedAt: s.o.Now(),
					Input: recruit.PositionInput{Title: title, Language: lang}})
			}
		}
		b.positionID = pid
	}
	if len(add) > 0 {
		err := s.o.Recruit.ImportPositionsWith(ctx, a.TenantID, add, func(ctx context.Context, tx *sql.Tx) error {
			for k, pid := range refs {
				if _, err := tx.ExecContext(ctx, `INSERT INTO import_keys (tenant_id, key, run_id, target, created_at) VALUES ($1, $2, $3, $4, $5)`,
					a.TenantID, k, r.ID, pid, db.Time(s.o.Now())); err != nil {
					return db.MapError(err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("import positions: %w", err)
		}
		for k, pid := range refs {
			positions.byRef[k] = pid
		}
		for k, pid := range titles {
			positions.byTitle[k] = pid
		}
	}
	people := make([]recruit.ImportPerson, 0, len(batch))
	for _, b := range batch {
		p := b.person
		p.Key, p.RunID, p.AddedBy, p.By = b.key, r.ID, a.UserID, audit.ActorOf(a)
		if b.positionID != "" {
			p.Applications = []recruit.ImportPersonApplication{{PositionID: b.positionID, Stage: b.stage, Source: b.source, CreatedAt: b.applied,
				Labels: b.labels, Comment: b.comment}}
		}
		if p.Consent != nil {
			p.Consent.Language = lang
		}
		for i, name := range b.documents {
			data, err := docs.Read(name)
			if err != nil {
				return err
			}
			kind := "attachment"
			if i == 0 {
				kind = "cv"
			}
			p.Documents = append(p.Documents, recruit.ImportDocument{Kind: kind, Name: path.Base(name), Data: data})
		}
		people = append(people, p)
	}
	advance := func(ctx context.Context, tx *sql.Tx, out []recruit.ImportOutcome) error {
		var c, m, sk int
		for _, o := range out {
			switch {
			case o.Skipped:
				sk++
			case o.Merged:
				m++
			case o.Created:
				c++
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE import_runs SET rows_done = $4, created = created + $5, merged = merged + $6, skipped = skipped + $7,
			problems = problems + $8, lease_until = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2 AND rows_done = $3 AND status = 'running'`,
			a.TenantID, r.ID, done, read, c, m, sk, problems, db.Time(s.o.Now().Add(lease)), db.Time(s.o.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errMoved
		}
		return nil
	}
	if len(people) == 0 {
		return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error { return advance(ctx, tx, nil) })
	}
	_, err := s.o.Recruit.ImportPeople(ctx, a.TenantID, people, advance)
	if errors.Is(err, errMoved) {
		return ErrState
	}
	return err
}

func foldTitle(t string) string { return search.Fold(strings.Join(strings.Fields(t), " ")) }

// AttachDocuments keeps a zip of the documents an uploaded file's rows
// name beside it (the page uploads them after the file, in one form).
func (s *Service) AttachDocuments(ctx context.Context, a access.Actor, runID string, docs io.Reader) error {
	r, err := s.Run(ctx, a, runID)
	if err != nil {
		return err
	}
	if r.Status != StatusUploaded {
		return ErrState
	}
	d, err := s.o.Blobs.Put(ctx, a.TenantID, runID+"-documents", docs, MaxUploadDocsBytes)
	if errors.Is(err, blob.ErrTooLarge) {
		return fault.Field("documents", "import.error_documents_too_large")
	}
	if err != nil {
		return fmt.Errorf("store import documents: %w", err)
	}
	if d.Size == 0 {
		return nil
	}
	if _, err := ZipBytes(mustRead(s.o.Blobs.ReadAll(ctx, a.TenantID, runID+"-documents", d.Key))); err != nil {
		_ = s.o.Blobs.Delete(context.WithoutCancel(ctx), a.TenantID, runID+"-documents")
		return fault.Field("documents", MessageKey(err, "import.error_zip"))
	}
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_runs SET documents_key = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'uploaded'`,
			a.TenantID, runID, d.Key, db.Time(s.o.Now()))
		return err
	})
}

func mustRead(b []byte, err error) []byte {
	if err != nil {
		return nil
	}
	return b
}
