package recruit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

type env struct {
	db       *db.DB
	log      *audit.Log
	tenants  *tenant.Service
	accounts *account.Service
	credits  *credit.Service
	svc      *recruit.Service
	keys     *keys.Keyring
	tenantID string
	users    map[string]access.Actor
}

// newEnv is a company with one user per predefined role (named by role)
// plus a second recruiter ("recruiter2"), and an administrator of another
// company ("foreign").
func newEnv(t *testing.T) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	e := &env{db: k.DB, log: k.Audit, tenants: k.Tenants, accounts: k.Accounts, credits: k.Credits, svc: k.Recruit, keys: k.Keys,
		users: map[string]access.Actor{}}
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	e.tenantID = c.ID
	for _, r := range access.Roles {
		e.users[r] = k.Actor(t, c.ID, r, r)
	}
	e.users["recruiter2"] = k.Actor(t, c.ID, "recruiter2", access.Recruiter)
	other := k.Company(t, tenant.CreateInput{Slug: "other", Name: "Other"})
	e.users["foreign"] = k.Actor(t, other.ID, "foreign", access.HRManager)
	return e
}

func (e *env) position(t *testing.T, owner, title string) *recruit.Position {
	t.Helper()
	p, err := e.svc.CreatePosition(context.Background(), e.users[owner], recruit.PositionInput{Title: title, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) apply(t *testing.T, by, positionID, name, email string, stage access.StageKind) *recruit.Application {
	t.Helper()
	a, err := e.svc.AddCandidate(context.Background(), e.users[by], positionID, recruit.CandidateInput{Name: name, Email: email}, stage, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func titles(ps []*recruit.Position) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Title)
	}
	slices.Sort(out)
	return out
}

// TestVisibilityByRole: who sees which positions and applications, through
// the service, with denials answered 404 or 403 as the policy says.
func TestVisibilityByRole(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	own := e.position(t, access.Recruiter, "Own")
	shared := e.position(t, "recruiter2", "Shared")
	_ = e.position(t, access.HRManager, "HR's")
	if err := e.svc.SharePosition(ctx, e.users["recruiter2"], shared.ID, []string{e.users[access.LineManager].UserID}); err != nil {
		t.Fatal(err)
	}
	newApp := e.apply(t, "recruiter2", shared.ID, "Nina New", "nina@example.org", access.StageNew)
	interview := e.apply(t, "recruiter2", shared.ID, "Ivan Interview", "ivan@example.org", access.StageInterview)
	ownApp := e.apply(t, access.Recruiter, own.ID, "Olga Own", "olga@example.org", access.StageNew)

	want := map[string][]string{
		access.Administrator:           nil,
		access.HRManager:               {"HR's", "Own", "Shared"},
		access.Recruiter:               {"Own"},
		access.RecruiterWithoutCredits: nil,
		access.LineManager:             {"Shared"},
		access.CaseHandler:             nil,
		"recruiter2":                   {"Shared"},
		"foreign":                      nil,
	}
	for name, w := range want {
		ps, err := e.svc.PositionsPage(ctx, e.users[name], recruit.PositionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := titles(ps.Positions); !slices.Equal(got, w) {
			t.Errorf("%s sees positions %v, want %v", name, got, w)
		}
	}
	// The line manager sees the shared position's candidates and may comment, not move them.
	lm := e.users[access.LineManager]
	apps, err := e.svc.Applications(ctx, lm, shared.ID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("line manager's applications: %d %v", len(apps), err)
	}
	if _, err := e.svc.AddComment(ctx, lm, newApp.ID, "Strong <b>profile</b>"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Move(ctx, lm, newApp.ID, recruit.MoveInput{Kind: access.StageInterview}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("line manager moves a stage: %v", err)
	}
	if _, err := e.svc.Application(ctx, lm, ownApp.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("line manager reads an application of a position not shared: %v", err)
	}
	if _, err := e.svc.Applications(ctx, lm, own.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("line manager lists a position not shared: %v", err)
	}
	// The recruiter sees the other recruiter's interviewed candidate through the pool, read-only, not the new one.
	rec := e.users[access.Recruiter]
	if _, err := e.svc.Application(ctx, rec, interview.ID); err != nil {
		t.Fatalf("pool candidate: %v", err)
	}
	if _, err := e.svc.Application(ctx, rec, newApp.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a new candidate of another recruiter: %v", err)
	}
	if _, err := e.svc.AddComment(ctx, rec, interview.ID, "mine now"); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("commenting a pool candidate: %v", err)
	}
	pool, err := e.svc.PoolPage(ctx, rec, "", 0)
	if err != nil || len(pool.Applications) != 1 || pool.Applications[0].ID != interview.ID {
		t.Fatalf("pool: %v %v", pool, err)
	}
	if _, err := e.svc.PoolPage(ctx, lm, "", 0); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("line manager's pool: %v", err)
	}
	// Another company's HR manager finds nothing, whatever the id.
	foreign := e.users["foreign"]
	for _, id := range []string{shared.ID, newApp.ID, "not-an-id", "../../x"} {
		if _, err := e.svc.Position(ctx, foreign, id); !errors.Is(err, recruit.ErrNotFound) {
			t.Errorf("foreign position %q: %v", id, err)
		}
		if _, err := e.svc.Application(ctx, foreign, id); !errors.Is(err, recruit.ErrNotFound) {
			t.Errorf("foreign application %q: %v", id, err)
		}
		if err := e.svc.Move(ctx, foreign, id, recruit.MoveInput{Kind: access.StageHired}); !errors.Is(err, recruit.ErrNotFound) {
			t.Errorf("foreign move %q: %v", id, err)
		}
	}
	// The line manager may not edit or share.
	if err := e.svc.EditPosition(ctx, lm, shared.ID, recruit.PositionInput{Title: "Mine", Language: "en"}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("line manager edits: %v", err)
	}
	// The HR manager moves anyone's candidate.
	if err := e.svc.Move(ctx, e.users[access.HRManager], ownApp.ID, recruit.MoveInput{Kind: access.StagePreselected}); err != nil {
		t.Fatal(err)
	}
	// Denials and reads of candidate data are in the security log.
	recs, _, err := e.log.List(ctx, e.tenantID, audit.Filter{Action: audit.AccessDecided, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[string]int{}
	for _, r := range recs {
		decisions[r.Details["decision"]+" "+r.Details["permission"]]++
	}
	if decisions["forbidden applications.move"] != 1 || decisions["hidden applications.view"] < 2 || decisions["allow applications.view"] != 1 ||
		decisions["forbidden applications.comment"] != 1 || decisions["forbidden positions.edit"] != 1 {
		t.Fatalf("security log decisions: %v", decisions)
	}
	comments, err := e.svc.Comments(ctx, e.users["recruiter2"], newApp.ID)
	if err != nil || len(comments) != 1 || comments[0].Body != "Strong <b>profile</b>" || comments[0].AuthorID != lm.UserID {
		t.Fatalf("comments: %+v %v", comments, err)
	}
}

// TestOneCandidatePerEmail: a second application by the same person (email
// in another case) joins the existing candidate; the same position twice
// is one application.
func TestOneCandidatePerEmail(t *testing.T) {
	e := newEnv(t)
	p1 := e.position(t, access.HRManager, "One")
	p2 := e.position(t, access.HRManager, "Two")
	a1 := e.apply(t, access.HRManager, p1.ID, "Ann", "Ann@Example.org", access.StageNew)
	a2 := e.apply(t, access.HRManager, p2.ID, "Ann B.", " ann@example.org", access.StageNew)
	a3 := e.apply(t, access.HRManager, p1.ID, "Ann", "ann@example.ORG", access.StageNew)
	if a1.Candidate.ID != a2.Candidate.ID || a3.ID != a1.ID {
		t.Fatalf("candidates %s %s, applications %s %s", a1.Candidate.ID, a2.Candidate.ID, a1.ID, a3.ID)
	}
	others, err := e.svc.OtherApplications(context.Background(), e.users[access.HRManager], a1)
	if err != nil || len(others) != 1 || others[0].ID != a2.ID {
		t.Fatalf("the candidate's other applications: %v %v", others, err)
	}
	if others, _ := e.svc.OtherApplications(context.Background(), e.users[access.LineManager], a1); len(others) != 0 {
		t.Fatalf("a line manager sees applications of positions not shared: %v", others)
	}
	var ve *fault.Invalid
	for _, in := range []recruit.CandidateInput{{Name: "", Email: "x@example.org"}, {Name: "X", Email: "no"}, {Name: "X\x07", Email: "x@example.org"},
		{Name: "X", Email: "x@example.org", Phone: "call me"}, {Name: string([]byte{0xff}), Email: "x@example.org"}} {
		if _, err := e.svc.AddCandidate(context.Background(), e.users[access.HRManager], p1.ID, in, access.StageNew, recruit.ViaStaff); !errors.As(err, &ve) {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

// TestPublishingSpendsCredits: the free allowance, then credits debited in
// the same transaction; a recruiter without credits and an empty balance
// are refused and nothing is published; reopening is free; refunds once.
func TestPublishingSpendsCredits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2031, 5, 10, 12, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	one := 1
	if err := e.tenants.SetSettings(ctx, audit.Operator, e.tenantID, tenant.Settings{PasswordProfile: "standard", FreePublications: &one, PublicationCost: &[]int{2}[0]}); err != nil {
		t.Fatal(err)
	}
	rec, poor := e.users[access.Recruiter], e.users[access.RecruiterWithoutCredits]
	first := e.position(t, access.Recruiter, "First")
	pub, err := e.svc.Publish(ctx, rec, first.ID)
	if err != nil || pub.Credits != 0 {
		t.Fatalf("first publication: %+v %v", pub, err)
	}
	second := e.position(t, access.Recruiter, "Second")
	if _, err := e.svc.Publish(ctx, rec, second.ID); !errors.Is(err, credit.ErrInsufficient) {
		t.Fatalf("beyond the allowance without credits: %v", err)
	}
	if p, _ := e.svc.Position(ctx, rec, second.ID); p.Status != recruit.Draft {
		t.Fatalf("a refused publication published: %s", p.Status)
	}
	if _, err := e.credits.GrantAsOperator(ctx, e.tenantID, credit.GrantInput{Amount: 3, Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	third := e.position(t, access.RecruiterWithoutCredits, "Third")
	if _, err := e.svc.Publish(ctx, poor, third.ID); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("a recruiter without credits spends: %v", err)
	}
	if pub, err = e.svc.Publish(ctx, rec, second.ID); err != nil || pub.Credits != 2 {
		t.Fatalf("paid publication: %+v %v", pub, err)
	}
	if b, _ := e.credits.Balance(ctx, e.tenantID); b != 1 {
		t.Fatalf("balance %d, want 1", b)
	}
	if _, err := e.svc.Publish(ctx, rec, second.ID); !errors.Is(err, recruit.ErrState) {
		t.Fatalf("publishing twice: %v", err)
	}
	if err := e.svc.Close(ctx, rec, second.ID); err != nil {
		t.Fatal(err)
	}
	if pub, err = e.svc.Publish(ctx, rec, second.ID); err != nil || pub.Credits != 0 {
		t.Fatalf("reopening: %+v %v", pub, err)
	}
	// A new month brings a new allowance.
	now = now.AddDate(0, 1, 0)
	if pub, err = e.svc.Publish(ctx, poor, third.ID); err != nil || pub.Credits != 0 {
		t.Fatalf("next month's free publication: %+v %v", pub, err)
	}
	// The ledger: grant, spend, read by credit administrators; the operator
	// refunds a spending once.
	admin := e.users[access.Administrator]
	if _, err := e.credits.Ledger(ctx, rec, 10); !errors.Is(err, credit.ErrForbidden) {
		t.Fatalf("a recruiter reads the ledger: %v", err)
	}
	ledger, err := e.credits.Ledger(ctx, admin, 10)
	if err != nil || len(ledger) != 2 || ledger[0].Kind != credit.Spend || ledger[0].ObjectID != second.ID || ledger[0].ActorID != rec.UserID {
		t.Fatalf("ledger: %+v %v", ledger, err)
	}
	if _, err := e.credits.RefundAsOperator(ctx, e.tenantID, ledger[1].ID, ""); !errors.Is(err, credit.ErrNotRefundable) {
		t.Fatalf("refunding a grant: %v", err)
	}
	if _, err := e.credits.RefundAsOperator(ctx, e.tenantID, ledger[0].ID, "posted by mistake"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.credits.RefundAsOperator(ctx, e.tenantID, ledger[0].ID, ""); !errors.Is(err, credit.ErrNotRefundable) {
		t.Fatalf("refunding twice: %v", err)
	}
	if _, err := e.credits.RefundAsOperator(ctx, e.users["foreign"].TenantID, ledger[0].ID, ""); !errors.Is(err, credit.ErrNotFound) {
		t.Fatalf("another company refunds: %v", err)
	}
	if b, _ := e.credits.Balance(ctx, e.tenantID); b != 3 {
		t.Fatalf("balance after refund %d, want 3", b)
	}
	// Append-only, on both engines.
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE credit_ledger SET amount = 100 WHERE tenant_id = $1`, e.tenantID); err == nil {
		t.Fatal("the ledger accepted an update")
	}
	if _, err := e.db.Write.ExecContext(ctx, `DELETE FROM credit_ledger WHERE tenant_id = $1`, e.tenantID); err == nil {
		t.Fatal("the ledger accepted a deletion")
	}
	var ve *fault.Invalid
	for _, in := range []credit.GrantInput{{Amount: 0, Reason: "purchase"}, {Amount: credit.MaxGrant + 1, Reason: "purchase"}, {Amount: 1, Reason: "gift"},
		{Amount: 1, Reason: "purchase", Note: "a\x00b"}} {
		if _, err := e.credits.GrantAsOperator(ctx, e.tenantID, in); !errors.As(err, &ve) {
			t.Errorf("grant %+v: %v", in, err)
		}
	}
}

// TestDocumentsSurviveKeyRotation: after the company's data key rotates,
// re-wrapping the documents' keys keeps every document readable, and a
// failure to store nothing half-made.
func TestDocumentsSurviveKeyRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, access.HRManager, "Engineer")
	if _, err := e.svc.Publish(ctx, e.users[access.HRManager], pos.ID); err != nil {
		t.Fatal(err)
	}
	cv := "%PDF-1.7\nMy CV\n%%EOF\n"
	app, err := e.svc.Apply(ctx, e.tenantID, pos.ID, recruit.ApplyInput{Name: "Ann", Email: "ann@example.org", CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(cv)}})
	if err != nil {
		t.Fatal(err)
	}
	hr := e.users[access.HRManager]
	docs, err := e.svc.Documents(ctx, hr, app.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %v %v", docs, err)
	}
	if err := e.keys.Rotate(ctx, e.tenantID); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.RewrapDocuments(ctx, e.tenantID)
	if err != nil || n != 1 {
		t.Fatalf("re-wrapped %d: %v", n, err)
	}
	_, rc, err := e.svc.OpenDocument(ctx, hr, docs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != cv {
		t.Fatalf("after rotation: %q %v", got, err)
	}
	// An application to a position that is not published is not found.
	draft := e.position(t, access.HRManager, "Draft")
	if _, err := e.svc.Apply(ctx, e.tenantID, draft.ID, recruit.ApplyInput{Name: "Ann", Email: "ann@example.org", CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(cv)}}); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("applying to a draft: %v", err)
	}
}

// brokenStore is a file store whose writes fail after the first.
type brokenStore struct {
	blob.Backend
	puts int
}

func (b *brokenStore) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	b.puts++
	if b.puts > 1 {
		return errors.New("disk full")
	}
	return b.Backend.Put(ctx, name, r, size)
}

// TestFailedStorageLeavesNothing: when a document cannot be stored, there
// is no application, no candidate, and the documents stored before it are
// removed again.
func TestFailedStorageLeavesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, access.HRManager, "Engineer")
	if _, err := e.svc.Publish(ctx, e.users[access.HRManager], pos.ID); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, _ := blob.NewDir(dir)
	broken := &brokenStore{Backend: files}
	bundle, _ := i18n.Load()
	e.svc = recruit.NewService(e.db, e.log, e.credits, e.tenants, recruit.Options{Career: recruit.CareerOptions{Blobs: blob.New(broken, e.keys, t.TempDir()), Queue: notify.NewQueue(e.db), I18n: bundle}})
	pdf := []byte("%PDF-1.7\nx\n%%EOF\n")
	_, err := e.svc.Apply(ctx, e.tenantID, pos.ID, recruit.ApplyInput{Name: "Ann", Email: "ann@example.org",
		CV: &recruit.Upload{Name: "cv.pdf", Data: pdf}, Attachments: []recruit.Upload{{Name: "b.pdf", Data: pdf}}})
	if err == nil {
		t.Fatal("an application whose document could not be stored was accepted")
	}
	var n int
	e.db.Read.QueryRow(`SELECT (SELECT count(*) FROM applications) + (SELECT count(*) FROM candidates) + (SELECT count(*) FROM documents)`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows left behind", n)
	}
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
}

// queuedMessages returns the emails waiting in the queue, oldest first.
func (e *env) queuedMessages(t *testing.T) []notify.Message {
	t.Helper()
	rows, err := e.db.Read.Query(`SELECT message FROM email_queue ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var raw string
		rows.Scan(&raw)
		var m notify.Message
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}
