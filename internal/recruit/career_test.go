package recruit_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/id"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
)

const careerPDF = "%PDF-1.7\nMy CV\n%%EOF\n"

// published is a published position owned by the HR manager.
func (e *env) published(t *testing.T, title string) *recruit.Position {
	t.Helper()
	p := e.position(t, access.HRManager, title)
	if _, err := e.svc.Publish(context.Background(), e.users[access.HRManager], p.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) careerApply(t *testing.T, positionID string, in recruit.ApplyInput) *recruit.Application {
	t.Helper()
	if in.SubmissionID == "" {
		in.SubmissionID = id.New()
	}
	app, err := e.svc.Apply(context.Background(), e.tenantID, positionID, in)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// consentRows counts the consent log's rows of a candidate: all, and granted.
func (e *env) consentRows(t *testing.T, candidateID string) (all, granted int) {
	t.Helper()
	if err := e.db.Read.QueryRow(`SELECT count(*), count(CASE WHEN event = 'granted' THEN 1 END) FROM consent_log WHERE candidate_id = $1`, candidateID).
		Scan(&all, &granted); err != nil {
		t.Fatal(err)
	}
	return all, granted
}

// mails are the texts (subject and body) of the emails queued to an address.
func (e *env) mails(t *testing.T, to string) []string {
	t.Helper()
	rows, err := e.db.Read.Query(`SELECT message FROM email_queue ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var m notify.Message
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(m.To, to) {
			out = append(out, m.Subject+"\n"+m.Text)
		}
	}
	return out
}

var consentLink = regexp.MustCompile(`/consent/([A-Za-z0-9_-]{43})`)

func historyActions(t *testing.T, e *env, applicationID string) []audit.Action {
	t.Helper()
	recs, _, err := e.log.List(context.Background(), e.tenantID, audit.Filter{Track: audit.History, ObjectKind: "application", ObjectID: applicationID, Limit: audit.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Action
	for _, r := range recs {
		out = append(out, r.Action)
	}
	return out
}

// TestCareerPageKeepsAKnownCandidate: someone who knows a candidate's email
// sends the career form with another name and phone, a file, a cover letter
// and the consent ticked, to the position the candidate applied to and to
// another. The candidate's stored name and phone, their application's
// documents and the consent log stay as they were; the difference waits on
// the cards as a proposal; the later submission's documents are kept apart;
// the email repeats nothing the sender typed. Accepting the proposal
// applies it; dismissing one leaves the candidate as stored.
func TestCareerPageKeepsAKnownCandidate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Engineer")
	other := e.published(t, "Designer")
	// The real candidate applies, without the talent pool.
	first := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Ann Andersson", Email: "ann@example.org", Phone: "+46 70 111 11 11",
		CV: &recruit.Upload{Name: "ann-cv.pdf", Data: []byte(careerPDF)}})
	cand := first.Candidate.ID
	beforeDocs, err := e.svc.Documents(ctx, hr, first.ID)
	if err != nil || len(beforeDocs) != 1 {
		t.Fatalf("the first application's documents: %v %v", beforeDocs, err)
	}
	beforeAll, beforeGranted := e.consentRows(t, cand)

	// Somebody else, with Ann's address in another spelling.
	attack := recruit.ApplyInput{Name: "Mallory Evil", Email: " ANN@example.org ", Phone: "+1 555 0100",
		CoverLetter: "Visit http://evil.example/login now", TalentPool: true,
		CV: &recruit.Upload{Name: "evil.pdf", Data: []byte("%PDF-1.7\nEvil\n%%EOF\n")}}
	again := e.careerApply(t, pos.ID, attack)
	elsewhere := e.careerApply(t, other.ID, attack)

	if again.ID != first.ID || again.Candidate.ID != cand || elsewhere.Candidate.ID != cand || elsewhere.ID == first.ID {
		t.Fatalf("matching: again %s (first %s), elsewhere %s; candidates %s %s", again.ID, first.ID, elsewhere.ID, again.Candidate.ID, elsewhere.Candidate.ID)
	}
	app, err := e.svc.Application(ctx, hr, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if app.Candidate.Name != "Ann Andersson" || app.Candidate.Phone != "+46 70 111 11 11" || app.CoverLetter != "" {
		t.Fatalf("the stored candidate changed: %+v, cover letter %q", app.Candidate, app.CoverLetter)
	}
	docs, err := e.svc.Documents(ctx, hr, first.ID)
	if err != nil || len(docs) != 1 || docs[0].ID != beforeDocs[0].ID || docs[0].FileName != "ann-cv.pdf" {
		t.Fatalf("the first application's documents changed: %+v %v", docs, err)
	}
	if all, granted := e.consentRows(t, cand); all != beforeAll || granted != beforeGranted || granted != 0 {
		t.Fatalf("the consent log changed: %d rows (%d granted), before %d (%d)", all, granted, beforeAll, beforeGranted)
	}
	// The candidate's name index still finds Ann, not the sender's name.
	if page, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{Text: "Mallory"}); err != nil || len(page.Applications) != 0 {
		t.Fatalf("the name filter finds the proposed name: %v %v", page, err)
	}

	// The card of the first application: the proposal, and the later submission apart.
	card, err := e.svc.CardView(ctx, hr, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Documents) != 1 || len(card.Details.Proposals) != 1 || len(card.Details.Resubmissions) != 1 {
		t.Fatalf("card: %d documents, %d proposals, %d resubmissions", len(card.Documents), len(card.Details.Proposals), len(card.Details.Resubmissions))
	}
	p := card.Details.Proposals[0]
	if p.Name != "Mallory Evil" || p.Phone != "+1 555 0100" {
		t.Fatalf("proposal %+v", p)
	}
	rs := card.Details.Resubmissions[0]
	if rs.CoverLetter != attack.CoverLetter || len(rs.Documents) != 1 || rs.Documents[0].FileName != "evil.pdf" {
		t.Fatalf("resubmission %+v", rs)
	}
	// Its documents open for a colleague who sees the application, as the application's do.
	if _, rc, err := e.svc.OpenDocument(ctx, hr, rs.Documents[0].ID); err != nil {
		t.Fatal(err)
	} else {
		rc.Close()
	}
	if _, _, err := e.svc.OpenDocument(ctx, e.users[access.LineManager], rs.Documents[0].ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager without the position opens the submission's document: %v", err)
	}
	// The other position's application is the submission's own, with the proposal too.
	otherCard, err := e.svc.CardView(ctx, hr, elsewhere.ID)
	if err != nil {
		t.Fatal(err)
	}
	if otherCard.Application.CoverLetter != attack.CoverLetter || len(otherCard.Documents) != 1 || len(otherCard.Details.Proposals) != 1 ||
		otherCard.Application.Candidate.Name != "Ann Andersson" {
		t.Fatalf("the other application: %+v %+v %d documents, %d proposals", otherCard.Application, otherCard.Application.Candidate,
			len(otherCard.Documents), len(otherCard.Details.Proposals))
	}

	// The emails went to Ann's address with a neutral greeting: nothing the sender typed.
	mails := e.mails(t, "ann@example.org")
	if len(mails) != 3 {
		t.Fatalf("%d emails to the address, want 3", len(mails))
	}
	for _, m := range mails[1:] {
		if strings.Contains(m, "Mallory") || strings.Contains(m, "evil.example") || strings.Contains(m, "555") {
			t.Fatalf("the email repeats the sender's text:\n%s", m)
		}
		if !consentLink.MatchString(m) {
			t.Fatalf("the email has no consent link:\n%s", m)
		}
	}
	// The communication history on the card keeps the email without the link.
	for _, msg := range card.Messages {
		if strings.Contains(msg.Body, "/consent/") {
			t.Fatal("the card's communication history holds the consent link")
		}
	}

	// A line manager (no right to change) may not decide; the owner accepts one and dismisses the other.
	lm := e.users[access.LineManager]
	if err := e.svc.SharePosition(ctx, hr, pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResolveProposal(ctx, lm, first.ID, p.ID, true); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a line manager accepts: %v", err)
	}
	if err := e.svc.ResolveProposal(ctx, e.users["recruiter2"], first.ID, p.ID, true); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a recruiter without the position accepts: %v", err)
	}
	if err := e.svc.ResolveProposal(ctx, hr, elsewhere.ID, p.ID, true); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a proposal accepted through another application: %v", err)
	}
	if err := e.svc.ResolveProposal(ctx, hr, elsewhere.ID, otherCard.Details.Proposals[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if app, _ := e.svc.Application(ctx, hr, first.ID); app.Candidate.Name != "Ann Andersson" {
		t.Fatalf("dismissing changed the candidate: %+v", app.Candidate)
	}
	if err := e.svc.ResolveProposal(ctx, hr, first.ID, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResolveProposal(ctx, hr, first.ID, p.ID, true); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a proposal accepted twice: %v", err)
	}
	app, _ = e.svc.Application(ctx, hr, first.ID)
	if app.Candidate.Name != "Mallory Evil" || app.Candidate.Phone != "+1 555 0100" {
		t.Fatalf("accepting did not apply the proposal: %+v", app.Candidate)
	}
	e.indexed(t)
	if page, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{Text: "Mallory"}); err != nil || len(page.Applications) != 2 {
		t.Fatalf("the name index does not follow the accepted name: %v", err)
	}
	// Audited both ways, in the cards' histories.
	if h := historyActions(t, e, first.ID); !slices.Contains(h, audit.CandidateChangeProposed) || !slices.Contains(h, audit.CandidateChangeAccepted) ||
		!slices.Contains(h, audit.ApplicationResubmitted) {
		t.Fatalf("history of the first application: %v", h)
	}
	if h := historyActions(t, e, elsewhere.ID); !slices.Contains(h, audit.CandidateChangeDismissed) {
		t.Fatalf("history of the other application: %v", h)
	}
	// The same form sent again is the same submission.
	attack.SubmissionID = id.New()
	a1 := e.careerApply(t, pos.ID, attack)
	a2 := e.careerApply(t, pos.ID, attack)
	if a1.ID != first.ID || a2.ID != first.ID {
		t.Fatal("a repeated form is not the first application")
	}
	if card, _ := e.svc.CardView(ctx, hr, first.ID); len(card.Details.Resubmissions) != 2 {
		t.Fatalf("%d resubmissions after one more form sent twice, want 2", len(card.Details.Resubmissions))
	}
}

// TestConsentCountsOnlyWhenConfirmed: a consent ticked on the career page
// is not in the consent log until the emailed link is followed; the link
// works once, however many confirmations race; an expired link does not work.
func TestConsentCountsOnlyWhenConfirmed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.published(t, "Engineer")
	app := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Bo", Email: "bo@example.org", TalentPool: true,
		CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(careerPDF)}})
	if all, granted := e.consentRows(t, app.Candidate.ID); all != 0 || granted != 0 {
		t.Fatalf("an unconfirmed consent is in the log: %d rows, %d granted", all, granted)
	}
	mails := e.mails(t, "bo@example.org")
	if len(mails) != 1 {
		t.Fatalf("%d emails", len(mails))
	}
	m := consentLink.FindStringSubmatch(mails[0])
	if m == nil {
		t.Fatalf("no consent link in\n%s", mails[0])
	}
	token := m[1]
	p, err := e.svc.ConsentToConfirm(ctx, token)
	if err != nil || p.Company != "Acme" || p.TextVersion != recruit.TalentPoolConsentVersion || p.Language != "en" {
		t.Fatalf("pending consent: %+v %v", p, err)
	}
	// Showing the link's page records nothing.
	if _, granted := e.consentRows(t, app.Candidate.ID); granted != 0 {
		t.Fatal("opening the link granted the consent")
	}
	// Many confirmations at once: one records the consent.
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.svc.ConfirmConsent(ctx, token)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, recruit.ErrNotFound):
			t.Fatalf("confirmation: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d confirmations succeeded, want 1", ok)
	}
	if all, granted := e.consentRows(t, app.Candidate.ID); all != 1 || granted != 1 {
		t.Fatalf("after confirming: %d rows, %d granted", all, granted)
	}
	if _, err := e.svc.ConsentToConfirm(ctx, token); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a used link: %v", err)
	}
	recs, _, err := e.log.List(ctx, e.tenantID, audit.Filter{Track: audit.Consent, Limit: audit.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	var requested, granted int
	for _, r := range recs {
		switch {
		case r.Action == audit.ConsentRequested:
			requested++
		case r.Action == audit.ConsentRecorded && r.Details["granted"] == "true" && r.Details["via"] == "email_link":
			granted++
		}
	}
	if requested != 1 || granted != 1 {
		t.Fatalf("consent trail: %d requested, %d granted", requested, granted)
	}

	// A link nobody follows in time stops working, and nothing is granted.
	later := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Cy", Email: "cy@example.org", TalentPool: true,
		CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(careerPDF)}})
	token = consentLink.FindStringSubmatch(e.mails(t, "cy@example.org")[0])[1]
	e.svc.SetClock(func() time.Time { return time.Now().Add(recruit.ConsentValidity + time.Minute) })
	if _, err := e.svc.ConfirmConsent(ctx, token); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("an expired link: %v", err)
	}
	if _, granted := e.consentRows(t, later.Candidate.ID); granted != 0 {
		t.Fatal("an expired link granted the consent")
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("A", 500)} {
		if _, err := e.svc.ConfirmConsent(ctx, bad); !errors.Is(err, recruit.ErrNotFound) {
			t.Fatalf("link %q: %v", bad, err)
		}
	}
}

// TestAddCandidateHidesWhatTheUserMayNotSee: a recruiter who adds a
// colleague's confidential candidate by their email learns that the address
// is known and nothing else; nothing is added. A user who sees the
// candidate adds them as before.
func TestAddCandidateHidesWhatTheUserMayNotSee(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mine := e.position(t, access.Recruiter, "Confidential")
	theirs := e.position(t, "recruiter2", "Open")
	secret, err := e.svc.AddCandidate(ctx, e.users[access.Recruiter], mine.ID,
		recruit.CandidateInput{Name: "Secret Person", Email: "secret@example.org", Phone: "+46 70 999 99 99"}, access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	r2 := e.users["recruiter2"]
	app, err := e.svc.AddCandidate(ctx, r2, theirs.ID, recruit.CandidateInput{Name: "Guess", Email: "SECRET@example.org"}, access.StageNew, recruit.ViaStaff)
	var ve *fault.Invalid
	if app != nil || !errors.As(err, &ve) || ve.Fields["email"] != "error.email_known" || len(ve.Fields) != 1 {
		t.Fatalf("adding a hidden candidate: %+v %v", app, err)
	}
	if strings.Contains(err.Error(), "Secret") || strings.Contains(err.Error(), "999") {
		t.Fatalf("the error tells what is stored: %v", err)
	}
	if apps, _ := e.svc.Applications(ctx, r2, theirs.ID); len(apps) != 0 {
		t.Fatalf("%d applications added", len(apps))
	}
	recs, _, err := e.log.List(ctx, e.tenantID, audit.Filter{Track: audit.Security, Action: audit.AccessDecided, ObjectKind: "candidate", ObjectID: secret.Candidate.ID})
	if err != nil || len(recs) != 1 || recs[0].Details["decision"] != "hidden" || recs[0].Actor.ID != r2.UserID {
		t.Fatalf("security log: %+v %v", recs, err)
	}
	// The HR manager sees every position, so the candidate joins.
	hrPos := e.position(t, access.HRManager, "HR's")
	joined, err := e.svc.AddCandidate(ctx, e.users[access.HRManager], hrPos.ID, recruit.CandidateInput{Name: "Other Name", Email: "secret@example.org"},
		access.StageNew, recruit.ViaStaff)
	if err != nil || joined.Candidate.ID != secret.Candidate.ID || joined.Candidate.Name != "Secret Person" {
		t.Fatalf("a user who sees the candidate: %+v %v", joined, err)
	}
	// Once the candidate is in the shared pool, other recruiters see them too.
	if err := e.svc.Move(ctx, e.users[access.Recruiter], secret.ID, recruit.MoveInput{Kind: access.StagePreselected}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddCandidate(ctx, r2, theirs.ID, recruit.CandidateInput{Name: "Guess", Email: "secret@example.org"}, access.StageNew, recruit.ViaStaff); err != nil {
		t.Fatalf("a candidate of the shared pool: %v", err)
	}
}

// TestSameFormAtOnce: one form sent several times at once (a double click,
// a retry) is one application, and for a known candidate one submission
// beside their application.
func TestSameFormAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Engineer")
	race := func(in recruit.ApplyInput) []string {
		const n = 6
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				app, err := e.svc.Apply(ctx, e.tenantID, pos.ID, in)
				if err == nil {
					ids[i] = app.ID
				}
				errs[i] = err
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	form := recruit.ApplyInput{Name: "Dag", Email: "dag@example.org", SubmissionID: id.New(), CV: &recruit.Upload{Name: "cv.pdf", Data: []byte(careerPDF)}}
	ids := race(form)
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one form made several applications: %v", ids)
		}
	}
	form.SubmissionID = id.New()
	form.Name = "Someone Else"
	for _, id := range race(form) {
		if id != ids[0] {
			t.Fatalf("a second form to the same position made another application: %s", id)
		}
	}
	card, err := e.svc.CardView(ctx, hr, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Documents) != 1 || len(card.Details.Resubmissions) != 1 || len(card.Details.Resubmissions[0].Documents) != 1 || len(card.Details.Proposals) != 1 {
		t.Fatalf("%d documents, %d resubmissions, %d proposals", len(card.Documents), len(card.Details.Resubmissions), len(card.Details.Proposals))
	}
	var docs int
	if err := e.db.Read.QueryRow(`SELECT count(*) FROM documents`).Scan(&docs); err != nil || docs != 2 {
		t.Fatalf("%d document rows: %v", docs, err)
	}
}
