package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

var subjectLink = regexp.MustCompile(`/my-data/([A-Za-z0-9_-]{43})`)

// queuedTo returns the bodies of the company's queued emails to address.
func (e *env) queuedTo(t *testing.T, address string) []string {
	t.Helper()
	var out []string
	err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(context.Background(), `SELECT message FROM email_queue WHERE tenant_id = $1 ORDER BY created_at, id`, e.tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var m struct {
				To   []string
				Text string
			}
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				return err
			}
			for _, to := range m.To {
				if strings.EqualFold(to, address) {
					out = append(out, m.Text)
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(context.Background(), query, args...).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// link asks for a self-service link for address and returns the token the
// email carries.
func (e *env) link(t *testing.T, address string) string {
	t.Helper()
	before := len(e.queuedTo(t, address))
	if err := e.svc.RequestLink(context.Background(), e.tenantID, address, "en"); err != nil {
		t.Fatal(err)
	}
	mails := e.queuedTo(t, address)
	if len(mails) != before+1 {
		t.Fatalf("emails to %s: got %d, want %d", address, len(mails), before+1)
	}
	m := subjectLink.FindStringSubmatch(mails[len(mails)-1])
	if m == nil {
		t.Fatalf("no self-service link in %q", mails[len(mails)-1])
	}
	return m[1]
}

func (e *env) session(t *testing.T, address string) *privacy.Subject {
	t.Helper()
	_, subj, err := e.svc.StartSession(context.Background(), e.link(t, address))
	if err != nil {
		t.Fatal(err)
	}
	return subj
}

// TestSubjectLinkSameForUnknown: asking for a link with an address the
// company does not hold does what asking with a known one does (a success,
// one record on the GDPR track) and sends nothing, stores no link.
func TestSubjectLinkSameForUnknown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Language: "en",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	records := func() int {
		n, err := e.kit.Audit.Count(ctx, e.tenantID, audit.Filter{Action: audit.SubjectLinkRequested})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	queued := func() int { return e.count(t, `SELECT count(*) FROM email_queue WHERE tenant_id = $1`, e.tenantID) }
	q0 := queued()
	if err := e.svc.RequestLink(ctx, e.tenantID, "nobody."+p.email, "en"); err != nil {
		t.Fatalf("unknown address: %v, want the same success as a known one", err)
	}
	if got := queued(); got != q0 {
		t.Fatalf("unknown address: %d emails queued, want %d (none sent)", got, q0)
	}
	if n := e.count(t, `SELECT count(*) FROM subject_links WHERE tenant_id = $1`, e.tenantID); n != 0 {
		t.Fatalf("unknown address stored %d links", n)
	}
	if n := records(); n != 1 {
		t.Fatalf("records after the unknown address: %d, want 1", n)
	}
	if err := e.svc.RequestLink(ctx, e.tenantID, strings.ToUpper(p.email), "en"); err != nil {
		t.Fatal(err)
	}
	if got := queued(); got != q0+1 {
		t.Fatalf("known address: %d emails queued, want %d", got, q0+1)
	}
	links := 0
	for _, m := range e.queuedTo(t, p.email) {
		if subjectLink.MatchString(m) {
			links++
		}
	}
	if links != 1 {
		t.Fatalf("known address: %d emails with the link, want 1", links)
	}
	if n := records(); n != 2 {
		t.Fatalf("records after the known address: %d, want 2", n)
	}
	for _, bad := range []string{"", "not an address", "a@b@c", strings.Repeat("x", 250) + "@example.org"} {
		err := e.svc.RequestLink(ctx, e.tenantID, bad, "en")
		if fault.Messages(err)["email"] != "subject.error_email" {
			t.Errorf("address %q: got %v, want the email field's message", bad, err)
		}
	}
}

// TestSubjectLinkSpentOnce races presses of one link's button: one starts
// a session, every other gets ErrLinkInvalid; the link is then spent.
func TestSubjectLinkSpentOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Language: "en",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	token := e.link(t, p.email)
	if _, err := e.svc.Link(ctx, token); err != nil {
		t.Fatalf("a fresh link: %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, invalid := 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.svc.StartSession(ctx, token)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, privacy.ErrLinkInvalid):
				invalid++
			default:
				t.Errorf("press: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || invalid != n-1 {
		t.Fatalf("sessions started %d, refused %d; want 1 and %d", ok, invalid, n-1)
	}
	if got := e.count(t, `SELECT count(*) FROM subject_sessions WHERE tenant_id = $1`, e.tenantID); got != 1 {
		t.Fatalf("sessions stored: %d, want 1", got)
	}
	if _, err := e.svc.Link(ctx, token); !errors.Is(err, privacy.ErrLinkInvalid) {
		t.Fatalf("the used link: %v, want ErrLinkInvalid", err)
	}
}

// TestSubjectLinkRefused: a forged, an expired and a reused link start no
// session; a session ends after SessionIdle without a request, and each
// request keeps it alive.
func TestSubjectLinkRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Language: "en",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	forged, _ := id.NewToken()
	for _, tok := range []string{forged, "", strings.Repeat("a", 200)} {
		if _, _, err := e.svc.StartSession(ctx, tok); !errors.Is(err, privacy.ErrLinkInvalid) {
			t.Fatalf("forged link %q: %v, want ErrLinkInvalid", tok, err)
		}
	}
	start := time.Now()
	clock := start
	e.svc.SetClock(func() time.Time { return clock })
	expired := e.link(t, p.email)
	clock = start.Add(privacy.LinkValidity + time.Minute)
	if _, err := e.svc.Link(ctx, expired); !errors.Is(err, privacy.ErrLinkInvalid) {
		t.Fatalf("expired link shown: %v", err)
	}
	if _, _, err := e.svc.StartSession(ctx, expired); !errors.Is(err, privacy.ErrLinkInvalid) {
		t.Fatalf("expired link: %v, want ErrLinkInvalid", err)
	}
	token := e.link(t, p.email)
	secret, _, err := e.svc.StartSession(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.StartSession(ctx, token); !errors.Is(err, privacy.ErrLinkInvalid) {
		t.Fatalf("reused link: %v, want ErrLinkInvalid", err)
	}
	clock = clock.Add(privacy.SessionIdle - time.Minute)
	if _, err := e.svc.Session(ctx, secret); err != nil {
		t.Fatalf("session within its idle time: %v", err)
	}
	clock = clock.Add(privacy.SessionIdle - time.Minute) // kept alive by the request before
	if _, err := e.svc.Session(ctx, secret); err != nil {
		t.Fatalf("session kept alive: %v", err)
	}
	clock = clock.Add(privacy.SessionIdle + time.Second)
	if _, err := e.svc.Session(ctx, secret); !errors.Is(err, privacy.ErrSessionEnded) {
		t.Fatalf("idle session: %v, want ErrSessionEnded", err)
	}
	if _, err := e.svc.Session(ctx, forged); !errors.Is(err, privacy.ErrSessionEnded) {
		t.Fatalf("forged session: %v, want ErrSessionEnded", err)
	}
}

// unzip reads an export's files.
func unzip(t *testing.T, ex *privacy.Export) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if err := ex.WriteTo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestSubjectExport: the candidate's export and a colleague's hold the
// planted values of every part of the file and the decrypted CV; the
// candidate's is in the register and both are on the GDPR track.
func TestSubjectExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	app := e.plant(t, p)
	subj := e.session(t, p.email)
	held, err := e.svc.Held(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	if held.Candidate.Name != p.name || len(held.Applications) != 1 || held.Applications[0].PositionTitle != "Platform engineer" || len(held.Documents) != 1 {
		t.Fatalf("held: %+v", held)
	}
	mine, err := e.svc.ExportSubject(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.svc.ExportCandidate(ctx, e.hr, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, ex := range map[string]*privacy.Export{"subject": mine, "staff": theirs} {
		files := unzip(t, ex)
		data := files["data.json"]
		var parsed privacy.Data
		if err := json.Unmarshal([]byte(data), &parsed); err != nil {
			t.Fatalf("%s: data.json: %v", name, err)
		}
		if parsed.Format != privacy.ExportFormat || parsed.Candidate.Email != p.email {
			t.Fatalf("%s: format %q email %q", name, parsed.Format, parsed.Candidate.Email)
		}
		for _, v := range []string{p.name, p.email, p.phone, p.cover, p.comment, p.label, p.place, p.task, `"stage": "new"`, `"value": "invite"`, "Platform engineer"} {
			if !strings.Contains(data, v) {
				t.Errorf("%s: data.json lacks %q", name, v)
			}
		}
		if strings.Contains(data, p.note) {
			t.Errorf("%s: data.json holds a colleague's private note", name)
		}
		if len(parsed.Applications) != 1 || len(parsed.Applications[0].Messages) == 0 || len(parsed.Applications[0].StageHistory) == 0 {
			t.Errorf("%s: application %+v: want its messages and stage history", name, parsed.Applications)
		}
		if len(parsed.Documents) != 1 || !strings.Contains(files[parsed.Documents[0].Path], p.cv) {
			t.Errorf("%s: the CV at %v is not in the zip decrypted (files %d)", name, parsed.Documents, len(files))
		}
	}
	kinds := map[string]int{}
	for _, r := range held.Requests {
		kinds[r.Kind+"/"+r.Status]++
	}
	reg, err := e.svc.Requests(ctx, e.hrWith(access.PrivacySettings))
	if err != nil {
		t.Fatal(err)
	}
	got := map[privacy.RequestKind]string{}
	for _, r := range reg.Recent {
		got[r.Kind] = r.Status
		if r.CandidateID != app.Candidate.ID || r.DueAt.Before(r.ReceivedAt.AddDate(0, 0, 27)) {
			t.Errorf("request %+v: want the candidate and a deadline a month on", r)
		}
	}
	if got[privacy.RequestAccess] != privacy.StatusDone || got[privacy.RequestExport] != privacy.StatusDone || len(reg.Open) != 0 {
		t.Fatalf("register %+v, want access and export done, none open", reg)
	}
	if n, err := e.kit.Audit.Count(ctx, e.tenantID, audit.Filter{Action: audit.CandidateExported}); err != nil || n != 2 {
		t.Fatalf("exports on the trail: %d (%v), want 2", n, err)
	}
	if _, err := e.svc.Requests(ctx, e.hr); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("register for a user without privacy.settings: %v", err)
	}
	outsider := e.kit.Actor(t, e.tenantID, "lina", access.LineManager)
	if _, err := e.svc.ExportCandidate(ctx, outsider, app.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("export by a line manager who does not see the application: %v, want not found", err)
	}
}

// TestSubjectRectify: the candidate corrects name and phone; a bad phone
// is refused with its message; nothing changed is nothing written.
func TestSubjectRectify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Phone: p.phone, Language: "en",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	subj := e.session(t, p.email)
	if _, err := e.svc.Rectify(ctx, subj, privacy.Contact{Name: " ", Phone: "call me"}); fault.Messages(err)["name"] != "subject.error_name" ||
		fault.Messages(err)["phone"] != "subject.error_phone" {
		t.Fatalf("bad input: %v", err)
	}
	changed, err := e.svc.Rectify(ctx, subj, privacy.Contact{Name: "Corrected Name", Phone: "+420 777 000 111"})
	if err != nil || strings.Join(changed, ",") != "name,phone" {
		t.Fatalf("changed %v: %v", changed, err)
	}
	held, err := e.svc.Held(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	if held.Candidate.Name != "Corrected Name" || held.Candidate.Phone != "+420 777 000 111" || held.Candidate.Email != p.email {
		t.Fatalf("after the correction: %+v", held.Candidate)
	}
	if changed, err := e.svc.Rectify(ctx, subj, privacy.Contact{Name: "Corrected Name", Phone: "+420 777 000 111"}); err != nil || len(changed) != 0 {
		t.Fatalf("the same again: %v %v", changed, err)
	}
	if n := e.count(t, `SELECT count(*) FROM subject_requests WHERE tenant_id = $1 AND kind = 'rectify'`, e.tenantID); n != 1 {
		t.Fatalf("rectifications registered: %d, want 1", n)
	}
	if n, err := e.kit.Audit.Count(ctx, e.tenantID, audit.Filter{Action: audit.CandidateRectified}); err != nil || n != 1 {
		t.Fatalf("rectifications in the history: %d (%v)", n, err)
	}
}

// TestSubjectWithdraw: a consent in force is withdrawn through the
// self-service (the log records it, the basis ends); with none in force
// the answer says so.
func TestSubjectWithdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	app, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Language: "en",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()})
	if err != nil {
		t.Fatal(err)
	}
	subj := e.session(t, p.email)
	if err := e.svc.WithdrawConsent(ctx, subj); !errors.Is(err, privacy.ErrNothingToWithdraw) {
		t.Fatalf("without a consent: %v, want ErrNothingToWithdraw", err)
	}
	err = e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: app.Candidate.ID, Event: recruit.ConsentGranted,
			TextVersion: "talent-pool-test-7", Language: "sv", Referral: recruit.ReferralCareerPage}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := e.svc.Held(ctx, subj); err != nil || !held.ConsentInForce {
		t.Fatalf("consent in force before: %v %v", held != nil && held.ConsentInForce, err)
	}
	if err := e.svc.WithdrawConsent(ctx, subj); err != nil {
		t.Fatal(err)
	}
	held, err := e.svc.Held(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	last := held.ConsentLog[len(held.ConsentLog)-1]
	if held.ConsentInForce || last.Event != "withdrawn" || last.Referral != recruit.ReferralSelfService || last.TextVersion != "talent-pool-test-7" {
		t.Fatalf("after withdrawal: in force %v, last entry %+v", held.ConsentInForce, last)
	}
	if err := e.svc.WithdrawConsent(ctx, subj); !errors.Is(err, privacy.ErrNothingToWithdraw) {
		t.Fatalf("withdrawn twice: %v, want ErrNothingToWithdraw", err)
	}
}

// TestSubjectErasureImmediate: without the company's approval, the
// request erases at once: the candidate, the files, the session; the
// planted values are nowhere but the consent log; the register keeps the
// request by the candidate's id.
func TestSubjectErasureImmediate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := newPlanted()
	app := e.plant(t, p)
	docs := e.documentIDs(t, app.Candidate.ID)
	token := e.link(t, p.email)
	secret, subj, err := e.svc.StartSession(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	erased, err := e.svc.RequestErasure(ctx, subj)
	if err != nil || !erased {
		t.Fatalf("erased %v: %v", erased, err)
	}
	if _, err := e.svc.Session(ctx, secret); !errors.Is(err, privacy.ErrSessionEnded) {
		t.Fatalf("session after erasure: %v, want ErrSessionEnded", err)
	}
	if n := e.count(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, app.Candidate.ID); n != 0 {
		t.Fatal("the candidate is still there")
	}
	if files := e.filesOf(t, docs); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
	if err := e.svc.Forget(ctx); err != nil { // the daily sweep's, as after every erasure
		t.Fatal(err)
	}
	if found := e.lookEverywhere(t, p.secrets(), false); len(found) != 0 {
		t.Fatalf("planted values left: %v", found)
	}
	if n := e.count(t, `SELECT count(*) FROM subject_requests WHERE tenant_id = $1 AND candidate_id = $2 AND kind = 'erasure' AND status = 'done'`,
		e.tenantID, app.Candidate.ID); n != 1 {
		t.Fatalf("erasure requests registered: %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM erasures WHERE tenant_id = $1 AND candidate_id = $2 AND reason = 'subject_request'`, e.tenantID, app.Candidate.ID); n != 1 {
		t.Fatalf("erasures recorded: %d", n)
	}
}

// TestSubjectErasureApproval: where the company approves erasures, the
// request waits (once, however often asked) with its deadline; a refusal
// needs a reason; two approvals at once erase once.
func TestSubjectErasureApproval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.hrWith(access.PrivacySettings)
	if err := e.kit.Tenants.SavePrivacy(ctx, admin, tenant.Privacy{ErasureApproval: true}); err != nil {
		t.Fatal(err)
	}
	apply := func() (*recruit.Application, *privacy.Subject) {
		p := newPlanted()
		app, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: p.name, Email: p.email, Language: "en",
			CV: &recruit.Upload{Name: "cv.txt", Data: []byte("Curriculum vitae\n")}, SubmissionID: id.New()})
		if err != nil {
			t.Fatal(err)
		}
		return app, e.session(t, p.email)
	}
	refused, subj := apply()
	for range 2 {
		if erased, err := e.svc.RequestErasure(ctx, subj); err != nil || erased {
			t.Fatalf("erased %v: %v, want a waiting request", erased, err)
		}
	}
	held, err := e.svc.Held(ctx, subj)
	if err != nil || held.PendingErasure.IsZero() {
		t.Fatalf("the candidate's page shows no waiting request: %v", err)
	}
	reg, err := e.svc.Requests(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Open) != 1 || reg.Open[0].Kind != privacy.RequestErasure || reg.Open[0].CandidateID != refused.Candidate.ID || reg.Open[0].Overdue {
		t.Fatalf("open requests: %+v", reg.Open)
	}
	rid := reg.Open[0].ID
	if err := e.svc.RefuseErasure(ctx, admin, rid, "  "); fault.Messages(err)["note"] != "subject.error_note" {
		t.Fatalf("refusal without a reason: %v", err)
	}
	if err := e.svc.ApproveErasure(ctx, e.hr, rid); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("approval without privacy.settings: %v", err)
	}
	if err := e.svc.RefuseErasure(ctx, admin, rid, "Applications are kept during the legal dispute."); err != nil {
		t.Fatal(err)
	}
	told := false
	for _, m := range e.queuedTo(t, refused.Candidate.Email) {
		told = told || strings.Contains(m, "Applications are kept during the legal dispute.")
	}
	if !told {
		t.Fatal("the candidate is not told the reason of the refusal")
	}
	if err := e.svc.ApproveErasure(ctx, admin, rid); !errors.Is(err, privacy.ErrAnswered) {
		t.Fatalf("approving a refused request: %v, want ErrAnswered", err)
	}
	if n := e.count(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, refused.Candidate.ID); n != 1 {
		t.Fatal("a refused request erased the candidate")
	}
	if err := e.svc.ApproveErasure(ctx, admin, id.New()); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}

	// Overdue a month on, then approved by two colleagues at once.
	approved, subj2 := apply()
	if _, err := e.svc.RequestErasure(ctx, subj2); err != nil {
		t.Fatal(err)
	}
	e.svc.SetClock(func() time.Time { return time.Now().AddDate(0, 1, 2) })
	reg, err = e.svc.Requests(ctx, admin)
	if err != nil || len(reg.Open) != 1 || !reg.Open[0].Overdue {
		t.Fatalf("a month on: %+v %v, want one overdue request", reg, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.svc.ApproveErasure(ctx, admin, reg.Open[0].ID) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, privacy.ErrAnswered):
			t.Errorf("approval: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("approvals that went through: %d, want 1", ok)
	}
	if n := e.count(t, `SELECT count(*) FROM candidates WHERE tenant_id = $1 AND id = $2`, e.tenantID, approved.Candidate.ID); n != 0 {
		t.Fatal("the approved request did not erase")
	}
	if n := e.count(t, `SELECT count(*) FROM erasures WHERE tenant_id = $1 AND candidate_id = $2`, e.tenantID, approved.Candidate.ID); n != 1 {
		t.Fatalf("erasures: %d, want 1", n)
	}
}
