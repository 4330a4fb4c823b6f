package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// fixture is a company with an HR manager, an existing position and
// candidate, and the importer.
type fixture struct {
	kit     *testkit.Kit
	svc     *Service
	company *tenant.Tenant
	hr      access.Actor
	pos     *recruit.Position
	known   *recruit.Application
	now     time.Time
	clock   func() time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	f := &fixture{kit: k, now: time.Now().UTC().Truncate(time.Second)}
	f.clock = func() time.Time { return f.now }
	f.company = k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME"})
	f.hr = k.Actor(t, f.company.ID, "hilda-hr", access.HRManager)
	ctx := context.Background()
	var err error
	if f.pos, err = k.Recruit.CreatePosition(ctx, f.hr, recruit.PositionInput{Title: "Backend developer", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if f.known, err = k.Recruit.AddCandidate(ctx, f.hr, f.pos.ID, recruit.CandidateInput{Name: "Karin Known", Email: "karin@example.com"},
		access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatal(err)
	}
	f.svc = NewService(k.DB, Options{Recruit: k.Recruit, Audit: k.Audit, Blobs: k.Blobs, BatchSize: 2, Now: func() time.Time { return f.clock() }})
	return f
}

func bytesInput(data []byte, format string, m *Mapping, docs Documents) Input {
	return Input{Format: format, Mapping: m, Documents: docs, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func fileRun(data []byte, m *Mapping, docs Documents) FileRun {
	return FileRun{Input: bytesInput(data, CSV, m, docs), FileName: "export.csv", SHA256: "hash-" + string(rune('a'+len(data)%20))}
}

// pdf is a small valid PDF.
var pdf = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

const everyField = "\ufeffFirst name;Last name;Email;Phone;City;Country;Title;Employer;Links;Skills;Languages;Position;Stage;Applied;Source;Labels;Comment;Documents;Basis;Basis date;Consent evidence;ID\r\n" +
	"Åsa;Lindqvist;ASA.Lindqvist@Example.com;+46 70 123 45 67;Göteborg;se;Data engineer;Volvo;https://www.linkedin.com/in/asa https://asa.example.org;Go, SQL;sv:native, en:C1;Backend developer;Intervju;2026-10-01;Referral;vip, remote;Strong on databases;cv/asa.pdf;purpose;;;ext-1\r\n" +
	"Ola;Nordmann;ola@example.no;;Oslo;NO;;;;;;Data scientist;new;2026-09-15 10:30:00;;;;;consent;2026-09-15;Signed form in the old ATS, 2026-09-15;ext-2\r\n" +
	"Karin;Known;karin@example.com;+46 8 555 000;Uppsala;;Architect;;;;;Backend developer;offer;2026-08-01;;;;;purpose;;;ext-3\r\n" +
	"Pia;Pool;pia@example.com;;;;;;;;;;;;;;;;purpose;2026-11-20;;ext-4\r\n"

func everyFieldMapping(t *testing.T) *Mapping {
	t.Helper()
	m := Builtin["spreadsheet"].clone()
	m.Stages = map[string]string{"intervju": "interview"}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	return m
}

func docsDir(t *testing.T) Documents {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cv"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cv", "asa.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestImportRoundTrip imports a file with every field and reads it back
// through recruit's service.
func TestImportRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run, rep, err := f.svc.Import(ctx, f.hr, fileRun([]byte(everyField), everyFieldMapping(t), docsDir(t)))
	if err != nil {
		t.Fatalf("import: %v (report %+v)", err, rep)
	}
	if rep.Rejected != 0 || rep.New != 3 || rep.Merged != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if run.Status != StatusDone || run.Created != 3 || run.Merged != 1 || run.RowsDone != 4 || run.TotalRows != 4 {
		t.Fatalf("run: %+v", run)
	}
	// Åsa: a new candidate on the existing position, at the mapped stage.
	apps, err := f.kit.Recruit.Applications(ctx, f.hr, f.pos.ID)
	if err != nil {
		t.Fatal(err)
	}
	var asa, karin *recruit.Application
	for _, a := range apps {
		switch a.Candidate.Name {
		case "Åsa Lindqvist":
			asa = a
		case "Karin Known":
			karin = a
		}
	}
	if asa == nil || karin == nil {
		var all []string
		f.kit.DB.ReadTx(ctx, f.company.ID, func(tx *sql.Tx) error {
			q, _ := tx.QueryContext(ctx, `SELECT c.email, a.position_id, a.stage FROM applications a JOIN candidates c ON c.tenant_id = a.tenant_id AND c.id = a.candidate_id`)
			defer q.Close()
			for q.Next() {
				var e, p, s string
				q.Scan(&e, &p, &s)
				all = append(all, e+" "+p+" "+s)
			}
			return nil
		})
		t.Fatalf("applications on the position %s: %d; all: %v", f.pos.ID, len(apps), all)
	}
	// The list holds names only: read each application whole.
	if asa, err = f.kit.Recruit.Application(ctx, f.hr, asa.ID); err != nil {
		t.Fatal(err)
	}
	if karin, err = f.kit.Recruit.Application(ctx, f.hr, karin.ID); err != nil {
		t.Fatal(err)
	}
	if asa.Candidate.Name != "Åsa Lindqvist" || asa.Candidate.Phone != "+46 70 123 45 67" || asa.Stage != access.StageInterview || asa.Source != "referral" {
		t.Fatalf("Åsa: %+v %+v", asa, asa.Candidate)
	}
	if !asa.CreatedAt.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("applied %v", asa.CreatedAt)
	}
	v, err := f.kit.Recruit.CardView(ctx, f.hr, asa.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := v.Profile
	if p.City != "Göteborg" || p.Country != "SE" || p.Title != "Data engineer" || p.Employer != "Volvo" || p.LinkedIn != "https://www.linkedin.com/in/asa" ||
		p.Portfolio != "https://asa.example.org" || recruit.FormatSkills(p.Skills) != "Go, SQL" || recruit.FormatLanguages(p.Languages) != "en:C1, sv:native" {
		t.Fatalf("profile: %+v", p)
	}
	if len(v.Comments) != 1 || v.Comments[0].Body != "Strong on databases" {
		t.Fatalf("comments: %+v", v.Comments)
	}
	if !slices.Equal(v.Details.Labels, []string{"remote", "vip"}) && !slices.Equal(v.Details.Labels, []string{"vip", "remote"}) {
		t.Fatalf("labels: %v", v.Details.Labels)
	}
	if len(v.Documents) != 1 || v.Documents[0].FileName != "asa.pdf" || v.Documents[0].Kind != "cv" {
		t.Fatalf("documents: %+v", v.Documents)
	}
	if asa.Candidate.Bases.PurposeUntil.IsZero() || !asa.Candidate.Bases.ConsentUntil.IsZero() {
		t.Fatalf("Åsa's bases: %+v", asa.Candidate.Bases)
	}
	// Karin was known: her name stays, her empty phone and profile fields are filled, the application at the same position is kept.
	if karin.ID != f.known.ID || karin.Candidate.Name != "Karin Known" || karin.Candidate.Phone != "+46 8 555 000" || karin.Stage != access.StageNew {
		t.Fatalf("Karin: %+v %+v", karin, karin.Candidate)
	}
	kv, err := f.kit.Recruit.CardView(ctx, f.hr, karin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if kv.Profile.City != "Uppsala" || kv.Profile.Title != "Architect" {
		t.Fatalf("Karin's profile: %+v", kv.Profile)
	}
	// Ola: a new closed position, a consent with its evidence and date.
	var ola *recruit.Application
	ps, err := f.kit.Recruit.ImportPositionRefs(ctx, f.company.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range ps {
		if pr.Title == "Data scientist" {
			as, err := f.kit.Recruit.Applications(ctx, f.hr, pr.ID)
			if err != nil || len(as) != 1 {
				t.Fatalf("new position's applications: %v %v", as, err)
			}
			if ola, err = f.kit.Recruit.Application(ctx, f.hr, as[0].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ola == nil || ola.Position.Status != recruit.Closed || ola.Candidate.Email != "ola@example.no" {
		t.Fatalf("Ola: %+v", ola)
	}
	if ola.Candidate.Bases.ConsentUntil.IsZero() {
		t.Fatalf("Ola's consent basis: %+v", ola.Candidate.Bases)
	}
	var evidence, referral, version string
	if err := f.kit.DB.ReadTx(ctx, f.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT evidence, referral, text_version FROM consent_log WHERE tenant_id = $1 AND candidate_id = $2`, f.company.ID, ola.Candidate.ID).
			Scan(&evidence, &referral, &version)
	}); err != nil {
		t.Fatal(err)
	}
	if evidence != "Signed form in the old ATS, 2026-09-15" || referral != recruit.ReferralImport || version != recruit.ImportConsentVersion {
		t.Fatalf("consent log: %q %q %q", evidence, referral, version)
	}
	// Pia: a candidate without an application, her purpose from the basis date.
	var piaUntil sql.NullTime
	if err := f.kit.DB.ReadTx(ctx, f.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT purpose_until FROM candidates WHERE tenant_id = $1 AND email = 'pia@example.com'`, f.company.ID).Scan(&piaUntil)
	}); err != nil {
		t.Fatal(err)
	}
	if !piaUntil.Valid || !piaUntil.Time.After(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Pia's purpose: %v", piaUntil)
	}
	// The trail: started and finished, with counts only.
	recs, _, err := f.kit.Audit.List(ctx, f.company.ID, audit.Filter{Action: audit.ImportFinished})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Details["created"] != "3" || recs[0].Details["status"] != "done" {
		t.Fatalf("import.finished: %+v", recs)
	}
}

// tableCounts counts the rows of every table.
func tableCounts(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	tables, err := d.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	if err := d.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error {
		for _, tbl := range tables {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+tbl).Scan(&n); err != nil {
				return err
			}
			out[tbl] = n
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(t)
	before := tableCounts(t, f.kit.DB)
	bad := everyField + "Bad;Row;not-an-email;;;;;;;;;;;;;;;;purpose;2026-01-01;;ext-9\r\n"
	rep, err := f.svc.Check(context.Background(), f.hr, bytesInput([]byte(bad), CSV, everyFieldMapping(t), docsDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 5 || rep.Rejected != 1 || rep.New != 3 || rep.Merged != 1 || len(rep.Positions) != 1 || rep.Positions[0] != "Data scientist" {
		t.Fatalf("report: %+v", rep)
	}
	if !slices.ContainsFunc(rep.Problems, func(p Problem) bool {
		return p.Line == 6 && p.Field == "email" && p.Key == "error.email_format" && !p.Note
	}) {
		t.Fatalf("no problem for the bad email on line 6: %+v", rep.Problems)
	}
	if !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Line == 4 && p.Key == "import.note_merge_existing" && p.Note }) {
		t.Fatalf("no note of the merge on line 4: %+v", rep.Problems)
	}
	after := tableCounts(t, f.kit.DB)
	for tbl, n := range before {
		if after[tbl] != n {
			t.Errorf("%s: %d rows after the dry run, %d before", tbl, after[tbl], n)
		}
	}
}

func TestSecondImportAddsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := fileRun([]byte(everyField), everyFieldMapping(t), docsDir(t))
	if _, _, err := f.svc.Import(ctx, f.hr, in); err != nil {
		t.Fatal(err)
	}
	before := tableCounts(t, f.kit.DB)
	run, rep, err := f.svc.Import(ctx, f.hr, in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 4 || run.Skipped != 4 || run.Created != 0 || run.Merged != 0 {
		t.Fatalf("second run: report %+v run %+v", rep, run)
	}
	after := tableCounts(t, f.kit.DB)
	for _, tbl := range []string{"candidates", "applications", "comments", "application_labels", "documents", "consent_log", "positions", "candidate_profile_changes", "import_keys"} {
		if after[tbl] != before[tbl] {
			t.Errorf("%s: %d rows after the second import, %d before", tbl, after[tbl], before[tbl])
		}
	}
	// The same people with other row keys (no external id, another file)
	// still join the candidates the first import made: no second candidate.
	m := everyFieldMapping(t)
	delete(m.Columns, "ID")
	if _, _, err := f.svc.Import(ctx, f.hr, FileRun{Input: bytesInput([]byte(everyField), CSV, m, docsDir(t)), SHA256: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := tableCounts(t, f.kit.DB)["candidates"]; got != before["candidates"] {
		t.Fatalf("candidates: %d, want %d", got, before["candidates"])
	}
}

// TestResumeAfterInterruption stops a run after its first batch (as a
// killed process would) and runs the file again once the lease lapsed:
// the run continues after its last batch and writes every row once.
func TestResumeAfterInterruption(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("Name,Email,Basis,Applied,Position\n")
	for i := range 9 {
		b.WriteString("Person " + string(rune('A'+i)) + ",p" + string(rune('a'+i)) + "@example.com,purpose,2026-10-01,Backend developer\n")
	}
	data := []byte(b.String())
	m, err := ParseMap("Name=full_name,Email=email,Basis=basis,Applied=applied,Position=position")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := FileRun{Input: bytesInput(data, CSV, m, nil), FileName: "people.csv", SHA256: "people"}
	in.Progress = func(done, total int) {
		if done >= 2 {
			cancel()
		}
	}
	run, _, err := f.svc.Import(ctx, f.hr, in)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	got, err := f.svc.Run(context.Background(), f.hr, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusRunning || got.RowsDone != 2 || got.Created != 2 {
		t.Fatalf("after the interruption: %+v", got)
	}
	// While the lease holds, the run is not taken over.
	in.Progress = nil
	if _, _, err := f.svc.Import(context.Background(), f.hr, in); err != nil {
		t.Fatalf("a run beside a held one: %v", err)
	}
	f.now = f.now.Add(lease + time.Minute)
	counts := tableCounts(t, f.kit.DB)
	if counts["applications"] != 1+9 {
		// the second Import started a new run (the first was held) and wrote everything once: the keys make it so
		t.Fatalf("applications: %d, want 10", counts["applications"])
	}
	// The interrupted run continues where it stopped and writes nothing twice.
	res, _, err := f.svc.Import(context.Background(), f.hr, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != run.ID || res.Status != StatusDone || res.RowsDone != 9 || res.Created != 2 || res.Skipped != 7 {
		t.Fatalf("resumed run: %+v", res)
	}
	if got := tableCounts(t, f.kit.DB)["applications"]; got != 10 {
		t.Fatalf("applications: %d, want 10", got)
	}
}

// TestTakeRace: two workers take one run at once; exactly one gets it.
func TestTakeRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, _ := ParseMap("Name=full_name,Email=email,Basis=basis,Applied=applied")
	run, err := f.svc.Upload(ctx, f.hr, "x.csv", "", strings.NewReader("Name,Email,Basis,Applied\nA B,ab@example.com,purpose,2026-01-02\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckRun(ctx, f.hr, run.ID, m, ""); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.take(ctx, f.hr, run.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, ErrState):
				lost++
			default:
				t.Errorf("take: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 3 {
		t.Fatalf("won %d, lost %d", won, lost)
	}
}

// TestPageFlow uploads, checks and starts a run in the background, as the page does.
func TestPageFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("cv/asa.pdf")
	w.Write(pdf)
	zw.Close()
	run, err := f.svc.Upload(ctx, f.hr, "export.csv", "", strings.NewReader(everyField), &zb)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusUploaded || !slices.Contains(run.Header, "First name") || !run.HasDocuments {
		t.Fatalf("uploaded: %+v", run)
	}
	if err := f.svc.Start(ctx, f.hr, run.ID); !errors.Is(err, ErrState) {
		t.Fatalf("start before the dry run: %v", err)
	}
	run, err = f.svc.CheckRun(ctx, f.hr, run.ID, everyFieldMapping(t), "Old ATS")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusChecked || run.Report == nil || run.Report.New != 3 || run.TotalRows != 4 {
		t.Fatalf("checked: %+v %+v", run, run.Report)
	}
	if m, err := f.svc.MappingByName(ctx, f.hr, "Old ATS"); err != nil || m.Stages["intervju"] != "interview" {
		t.Fatalf("saved mapping: %+v %v", m, err)
	}
	if err := f.svc.Start(ctx, f.hr, run.ID); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait()
	run, err = f.svc.Run(ctx, f.hr, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusDone || run.Created != 3 || run.Percent() != 100 {
		t.Fatalf("done: %+v", run)
	}
	// The file and the documents are gone from the store once the run is done.
	if _, err := f.svc.inputOf(ctx, f.company.ID, run.ID, nil); !errors.Is(err, ErrState) {
		t.Fatalf("input of a done run: %v", err)
	}
	// A recruiter (no access to every position) may not import.
	rec := f.kit.Actor(t, f.company.ID, "rolf-recruiter", access.Recruiter)
	if _, err := f.svc.Runs(ctx, rec); err == nil {
		t.Fatal("a recruiter lists imports")
	}
	// Another company does not see the run.
	other := f.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other"})
	ohr := f.kit.Actor(t, other.ID, "olga-hr", access.HRManager)
	if _, err := f.svc.Run(ctx, ohr, run.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another company's run: %v", err)
	}
}

// TestProgressRace: two workers write the same batch of a run at once (as
// two instances that both believe they hold it would); the run's progress
// is advanced by a conditional write in each batch's transaction, so one
// batch commits and the other rolls back whole.
func TestProgressRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	file := "Name,Email,Basis,Applied\nA One,a1@example.com,purpose,2026-01-02\nB Two,b2@example.com,purpose,2026-01-02\n"
	m, _ := ParseMap("Name=full_name,Email=email,Basis=basis,Applied=applied")
	run, err := f.svc.Upload(ctx, f.hr, "x.csv", "", strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckRun(ctx, f.hr, run.ID, m, ""); err != nil {
		t.Fatal(err)
	}
	if run, err = f.svc.take(ctx, f.hr, run.ID); err != nil {
		t.Fatal(err)
	}
	batch := func() []batchRow {
		src, err := Open(strings.NewReader(file), CSV)
		if err != nil {
			t.Fatal(err)
		}
		pl := newPlan(m, src.Header())
		var out []batchRow
		for {
			rec, err := src.Next()
			if err == io.EOF {
				return out
			}
			r, probs := pl.makeRow(f.company.ID, rec, f.now, true)
			if len(probs) > 0 {
				t.Fatalf("problems: %+v", probs)
			}
			out = append(out, batchRow{row: r})
		}
	}
	positions, err := f.svc.positions(ctx, f.company.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := positions
			errs[i] = f.svc.writeBatch(ctx, f.hr, run, batch(), &p, "en", nil, 0, 2, 0)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrState):
		default:
			t.Fatalf("writer: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers committed, want 1 (%v)", ok, errs)
	}
	got, err := f.svc.Run(ctx, f.hr, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RowsDone != 2 || got.Created != 2 {
		t.Fatalf("run: %+v", got)
	}
	if n := tableCounts(t, f.kit.DB)["candidates"]; n != 3 {
		t.Fatalf("candidates: %d, want 3", n)
	}
}
