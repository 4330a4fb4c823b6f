package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// env is a company with an HR manager, a published position and the
// privacy engine, logging into logs.
type env struct {
	kit      *testkit.Kit
	outbox   string
	svc      *privacy.Service
	tenantID string
	hr       access.Actor
	position *recruit.Position
	logs     *bytes.Buffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	c := k.Company(t, tenant.CreateInput{Name: "Acme", Slug: "acme"})
	e := &env{kit: k, tenantID: c.ID, hr: k.Actor(t, c.ID, "hanna", access.HRManager), logs: &bytes.Buffer{}, outbox: filepath.Join(t.TempDir(), "outbox")}
	e.svc = privacy.NewService(k.DB, privacy.Options{Audit: k.Audit, Recruit: k.Recruit, Tenants: k.Tenants, Blobs: k.Blobs, Queue: k.Queue,
		I18n: k.I18n, Ledger: k.Ledger, OutboxDir: e.outbox, Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	p, err := k.Recruit.CreatePosition(ctx, e.hr, recruit.PositionInput{Title: "Platform engineer", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Recruit.Publish(ctx, e.hr, p.ID); err != nil {
		t.Fatal(err)
	}
	e.position = p
	return e
}

// planted are values only one candidate has, looked for everywhere after
// the candidate is erased.
type planted struct {
	name, email, phone, cv, cover, comment, note, label, place, task, evidence string
}

func newPlanted() planted {
	u := strings.ReplaceAll(id.New(), "-", "")
	tag := strings.ToLower(u[len(u)-8:])
	return planted{
		name:     "Quillon" + tag + " Brevick" + tag,
		email:    "quillon." + tag + "@planted.test",
		phone:    fmt.Sprintf("+4670%07d", rand.IntN(10_000_000)),
		cv:       "Zephyrinearchitect" + tag,
		cover:    "Xylocarpletter" + tag,
		comment:  "Glimmerwortcomment" + tag,
		note:     "Nocturnalnote" + tag,
		label:    "plumbago" + tag[:4],
		place:    "Tarrowmere Hall " + tag,
		task:     "Ring Quillon " + tag,
		evidence: "Signedformevidence" + tag,
	}
}

// secrets are the values that must be gone everywhere; the name and the
// address stay in the consent log, and nowhere else.
func (p planted) family() string { return p.name[strings.LastIndexByte(p.name, ' ')+1:] }

func (p planted) secrets() []string {
	return []string{p.phone, p.cv, p.cover, p.comment, p.note, p.label, p.place, p.task, p.evidence}
}

// plant makes a candidate who applied on the career page with a CV, whose
// application has a comment, a private note, a label, a rating, a task and
// an interview (its invitation still in the email queue), whose document's
// text was extracted and who is in the search index.
func (e *env) plant(t *testing.T, p planted) *recruit.Application {
	t.Helper()
	ctx := context.Background()
	k := e.kit
	app, err := k.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Phone: p.phone,
		CoverLetter: p.cover, CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n" + p.cv + " at Mordovia Widgets.\n")},
		Language: "en", SubmissionID: id.New()})
	if err != nil {
		t.Fatal(err)
	}
	// The acknowledgement is delivered (to the outbox); the interview's
	// invitation below stays queued.
	if _, err := k.Queue.Deliver(ctx, notify.NewOutbox(e.outbox, "kandidat@localhost"), nil, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Recruit.AddComment(ctx, e.hr, app.ID, "Strong profile. "+p.comment); err != nil {
		t.Fatal(err)
	}
	if err := k.Recruit.AddNote(ctx, e.hr, app.ID, p.note); err != nil {
		t.Fatal(err)
	}
	if err := k.Recruit.AddLabel(ctx, e.hr, app.ID, p.label); err != nil {
		t.Fatal(err)
	}
	if err := k.Recruit.Rate(ctx, e.hr, app.ID, "invite"); err != nil {
		t.Fatal(err)
	}
	if err := k.Recruit.AddTask(ctx, e.hr, app.ID, recruit.TaskInput{Title: p.task}); err != nil {
		t.Fatal(err)
	}
	day := time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	if _, err := k.Recruit.InviteInterview(ctx, e.hr, app.ID, recruit.InterviewInput{Date: day, Time: "10:00", TimeZone: "Europe/Stockholm",
		Minutes: 45, Location: p.place}); err != nil {
		t.Fatal(err)
	}
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	if _, err := k.Recruit.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := k.Recruit.IndexQueued(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// The values are where they are looked for, so their absence later means something.
	if found := e.lookEverywhere(t, []string{p.cv, p.comment, p.place, p.cover}, true); len(found) < 4 {
		t.Fatalf("planted values not found before erasure: %v", found)
	}
	return app
}

// lookEverywhere returns where any of the values (case-insensitive) is
// found: every row of every table (the consent log's name and address
// columns only when strict), and on SQLite the database file's bytes.
func (e *env) lookEverywhere(t *testing.T, values []string, strict bool) []string {
	t.Helper()
	ctx := context.Background()
	d := e.kit.DB
	var found []string
	lower := make([]string, len(values))
	for i, v := range values {
		lower[i] = strings.ToLower(v)
	}
	err := d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		q := `SELECT name FROM sqlite_master WHERE type = 'table'`
		if d.Engine == db.Postgres {
			q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
		}
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		var tables []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			tables = append(tables, n)
		}
		rows.Close()
		for _, table := range tables {
			r, err := tx.QueryContext(ctx, `SELECT * FROM `+table)
			if err != nil {
				return err
			}
			cols, _ := r.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for r.Next() {
				if err := r.Scan(ptrs...); err != nil {
					r.Close()
					return err
				}
				for i, v := range vals {
					var text string
					switch v := v.(type) {
					case []byte:
						text = string(v)
					case string:
						text = v
					default:
						continue
					}
					text = strings.ToLower(text)
					for _, w := range lower {
						if strings.Contains(text, w) {
							found = append(found, table+"."+cols[i]+": "+w)
						}
					}
				}
			}
			r.Close()
			if err := r.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		files, _ := os.ReadDir(e.outbox)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(e.outbox, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ToLower(b)
			for _, w := range lower {
				if bytes.Contains(b, []byte(w)) {
					found = append(found, "outbox "+f.Name()+": "+w)
				}
			}
		}
	}
	if d.Engine == db.SQLite && strict {
		for _, f := range []string{d.Path, d.Path + "-wal"} {
			b, err := os.ReadFile(f)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ToLower(b)
			for _, w := range lower {
				if bytes.Contains(b, []byte(w)) {
					found = append(found, filepath.Base(f)+" bytes: "+w)
				}
			}
		}
	}
	return found
}

// outboxMentions counts the outbox's messages that mention s.
func (e *env) outboxMentions(t *testing.T, s string) int {
	t.Helper()
	files, _ := os.ReadDir(e.outbox)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(e.outbox, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(s))) {
			n++
		}
	}
	return n
}

// filesOf lists the file store's files whose path names the documents.
func (e *env) filesOf(t *testing.T, documentIDs []string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.kit.FilesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, doc := range documentIDs {
			if strings.Contains(path, doc) {
				out = append(out, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) documentIDs(t *testing.T, candidateID string) []string {
	t.Helper()
	var ids []string
	err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(context.Background(), `SELECT id FROM documents WHERE tenant_id = $1 AND candidate_id = $2`, e.tenantID, candidateID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			ids = append(ids, s)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestErasureLeavesNothing plants distinctive values through every part of
// a candidate's file and erases the candidate by each path; afterwards the
// values are in no table, not in the SQLite file's bytes, not in the file
// store, the search index, the email queue or the logs. Only the consent
// log keeps the name and the address, where the candidate chose on a
// consent; the audit trail keeps a tombstone with the id.
func TestErasureLeavesNothing(t *testing.T) {
	paths := []struct {
		name string
		// consent records a choice on the consent before erasure.
		consent recruit.ConsentEvent
		reason  privacy.Reason
		erase   func(t *testing.T, e *env, app *recruit.Application, other planted)
	}{
		{name: "manual", reason: privacy.ReasonManual, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			if err := e.svc.EraseCandidate(context.Background(), e.hr, app.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "manual_bulk", reason: privacy.ReasonManual, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			if n, err := e.svc.EraseCandidates(context.Background(), e.hr, []string{app.ID, app.ID}); err != nil || n != 1 {
				t.Fatalf("erased %d: %v", n, err)
			}
		}},
		{name: "subject_request", consent: recruit.ConsentGranted, reason: privacy.ReasonSubjectRequest, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			if ok, err := e.svc.EraseSubject(context.Background(), audit.Actor{Kind: audit.ActorCandidate, ID: app.Candidate.ID}, e.tenantID, app.Candidate.ID); err != nil || !ok {
				t.Fatalf("erased %v: %v", ok, err)
			}
		}},
		{name: "purpose_ended", reason: privacy.ReasonPurposeEnded, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			e.svc.SetClock(func() time.Time { return time.Now().AddDate(0, 7, 0) })
			e.sweep(t, 1)
		}},
		{name: "consent_withdrawn", consent: recruit.ConsentWithdrawn, reason: privacy.ReasonConsentEnded, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			e.svc.SetClock(func() time.Time { return time.Now().AddDate(0, 7, 0) })
			e.sweep(t, 1)
		}},
		{name: "consent_expired", consent: recruit.ConsentGranted, reason: privacy.ReasonConsentEnded, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			e.svc.SetClock(func() time.Time { return time.Now().AddDate(3, 1, 0) })
			e.sweep(t, 1)
		}},
		{name: "position_archived", reason: privacy.ReasonPositionArchived, erase: func(t *testing.T, e *env, app *recruit.Application, other planted) {
			ctx := context.Background()
			if err := e.kit.Tenants.SavePrivacy(ctx, e.hrWith(access.PrivacySettings), tenant.Privacy{EraseOnArchive: true}); err != nil {
				t.Fatal(err)
			}
			e.sweep(t, 0) // the position is open: nothing goes
			// The colleague applied to another position, still open.
			p2, err := e.kit.Recruit.CreatePosition(ctx, e.hr, recruit.PositionInput{Title: "Data engineer", Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.kit.Recruit.AddCandidate(ctx, e.hr, p2.ID, recruit.CandidateInput{Name: other.name, Email: other.email}, access.StageNew, recruit.ViaStaff); err != nil {
				t.Fatal(err)
			}
			if err := e.kit.Recruit.Close(ctx, e.hr, e.position.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.kit.Recruit.Archive(ctx, e.hr, e.position.ID); err != nil {
				t.Fatal(err)
			}
			e.sweep(t, 1)
		}},
	}
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			p := newPlanted()
			// A colleague candidate who must survive every path.
			op := newPlanted()
			other := e.plant(t, op)
			app := e.plant(t, p)
			cid := app.Candidate.ID
			docs := e.documentIDs(t, cid)
			if len(docs) == 0 || len(e.filesOf(t, docs)) == 0 {
				t.Fatal("no document stored")
			}
			if path.consent != "" {
				err := e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
					for _, ev := range []recruit.ConsentEvent{recruit.ConsentGranted, path.consent} {
						if _, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: cid, Event: ev, TextVersion: "v1",
							Language: "en", Referral: recruit.ReferralManual, Evidence: p.evidence}, db.Now()); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if path.name == "purpose_ended" || path.name == "consent_withdrawn" || path.name == "consent_expired" {
				// The colleague keeps a consent that outlives the sweep's clock.
				err := e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
					_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: other.Candidate.ID, Event: recruit.ConsentGranted,
						TextVersion: "v1", Language: "en", Referral: recruit.ReferralManual, Months: 36, At: time.Now().AddDate(0, 6, 0)}, db.Now())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if e.outboxMentions(t, p.email) == 0 {
				t.Fatal("the acknowledgement is not in the outbox")
			}
			path.erase(t, e, app, op)
			// The erasure left the forgetting of its bytes as a task; the
			// periodic job (or the sweep, which did already) does it.
			if err := e.svc.ForgetPending(ctx); err != nil {
				t.Fatal(err)
			}
			if n := e.countRows(t, `SELECT count(*) FROM pending_backfills WHERE name = 'privacy_forget'`); n != 0 {
				t.Fatalf("the forgetting is still pending after it ran: %d", n)
			}

			if found := e.lookEverywhere(t, p.secrets(), true); len(found) > 0 {
				t.Errorf("erased values still held: %v", found)
			}
			// The consent log alone keeps who chose (the career page's form
			// records a refusal, too), with nothing else of theirs.
			var n int
			if err := e.kit.DB.Read.QueryRow(`SELECT count(*) FROM consent_log WHERE candidate_id = $1 AND email = $2 AND family_name = $3`,
				cid, p.email, p.family()).Scan(&n); err != nil || n == 0 {
				t.Errorf("consent log entries kept: %d, %v", n, err)
			}
			for _, f := range e.lookEverywhere(t, []string{p.name, p.family(), p.email}, false) {
				if !strings.HasPrefix(f, "consent_log.") {
					t.Errorf("identity held outside the consent log: %s", f)
				}
			}
			if n := e.outboxMentions(t, p.email); n != 0 {
				t.Errorf("%d messages to the candidate left in the outbox", n)
			}
			if e.outboxMentions(t, op.email) == 0 {
				t.Error("the other candidate's mail went from the outbox")
			}
			if files := e.filesOf(t, docs); len(files) > 0 {
				t.Errorf("files left: %v", files)
			}
			if strings.Contains(strings.ToLower(e.logs.String()), strings.ToLower(p.family())) {
				t.Errorf("logs name the candidate: %s", e.logs)
			}
			// The colleague is whole, and findable.
			if _, err := e.kit.Recruit.Application(ctx, e.hr, other.ID); err != nil {
				t.Errorf("the other candidate: %v", err)
			}
			page, err := e.kit.Recruit.ListPage(ctx, e.hr, recruit.ListFilter{Text: "mordovia"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Applications) == 0 {
				t.Error("search does not find the other candidate")
			}
			for _, a := range page.Applications {
				if a.Candidate.ID != other.Candidate.ID {
					t.Errorf("search finds candidate %s (want the other candidate only)", a.Candidate.ID)
				}
			}
			if _, err := e.kit.Recruit.Application(ctx, e.hr, app.ID); err == nil {
				t.Error("the erased application still opens")
			}
			// The tombstone and the erasure record, by id only.
			var reason string
			var ledgered bool
			if err := e.kit.DB.Read.QueryRow(`SELECT reason, ledgered FROM erasures WHERE candidate_id = $1`, cid).Scan(&reason, &ledgered); err != nil ||
				reason != string(path.reason) || !ledgered {
				t.Errorf("erasure record: %q %v %v", reason, ledgered, err)
			}
			ledger, err := os.ReadFile(e.kit.Ledger)
			if err != nil || !strings.Contains(string(ledger), cid) || strings.Contains(strings.ToLower(string(ledger)), strings.ToLower(p.family())) {
				t.Errorf("ledger: %q %v", ledger, err)
			}
			recs, _, err := e.kit.Audit.List(ctx, e.tenantID, audit.Filter{Action: audit.CandidateErased})
			if err != nil || len(recs) != 1 || recs[0].Details["reason"] != string(path.reason) {
				t.Errorf("tombstone: %+v %v", recs, err)
			}
		})
	}
}

// hrWith is the HR manager with one more permission.
func (e *env) hrWith(p access.Permission) access.Actor {
	a := e.hr
	a.Perms |= access.Of(p)
	return a
}

func (e *env) sweep(t *testing.T, want int) privacy.SweepReport {
	t.Helper()
	dry, err := e.svc.Sweep(context.Background(), privacy.SweepOptions{TenantID: e.tenantID, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Sweep(context.Background(), privacy.SweepOptions{TenantID: e.tenantID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != want || dry.Total != want {
		t.Fatalf("sweep erased %d, dry run counted %d, want %d", rep.Total, dry.Total, want)
	}
	return rep
}

// TestErasureNeedsEveryPosition: candidates.erase without seeing every
// position is refused, since an erasure reaches all of the candidate's
// applications; nothing is erased.
func TestErasureNeedsEveryPosition(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	app := e.plant(t, newPlanted())
	limited := e.hr
	limited.Perms &^= access.Of(access.AllPositions)
	if err := e.svc.EraseCandidate(ctx, limited, app.ID); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("erasure without every position: %v", err)
	}
	if n, err := e.svc.EraseCandidates(ctx, limited, []string{app.ID}); !errors.Is(err, privacy.ErrForbidden) || n != 0 {
		t.Fatalf("bulk erasure without every position: %d %v", n, err)
	}
	if _, err := e.kit.Recruit.Application(ctx, e.hr, app.ID); err != nil {
		t.Fatalf("the candidate: %v", err)
	}
}
