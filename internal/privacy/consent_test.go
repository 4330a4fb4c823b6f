package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/kandidat/kandidat/internal/testkit"
)

// consentEnv is a company with a recruiter who owns a published position,
// a colleague recruiter, a line manager and an administrator (who holds
// privacy.settings), over the kit's privacy engine.
type consentEnv struct {
	kit                         *testkit.Kit
	svc                         *privacy.Service
	tenantID                    string
	recruiter, other, lm, admin access.Actor
	position                    *recruit.Position
	now                         time.Time
}

func newConsentEnv(t *testing.T) *consentEnv {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	c := k.Company(t, tenant.CreateInput{Name: "Acme", Slug: "acme", DefaultLanguage: "sv"})
	e := &consentEnv{kit: k, svc: k.Privacy, tenantID: c.ID, now: time.Now().UTC().Truncate(time.Second)}
	e.recruiter = k.Actor(t, c.ID, "rita", access.Recruiter)
	e.other = k.Actor(t, c.ID, "otto", access.Recruiter)
	e.lm = k.Actor(t, c.ID, "lina", access.LineManager)
	e.admin = k.Actor(t, c.ID, "adam", access.Administrator)
	e.svc.SetClock(func() time.Time { return e.now })
	ctx := context.Background()
	p, err := k.Recruit.CreatePosition(ctx, e.recruiter, recruit.PositionInput{Title: "Welder", Language: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Recruit.Publish(ctx, e.recruiter, p.ID); err != nil {
		t.Fatal(err)
	}
	e.position = p
	return e
}

// candidate adds a candidate to the recruiter's position.
func (e *consentEnv) candidate(t *testing.T, name, email string) *recruit.Application {
	t.Helper()
	app, err := e.kit.Recruit.AddCandidate(context.Background(), e.recruiter, e.position.ID, recruit.CandidateInput{Name: name, Email: email},
		access.StageNew, recruit.ViaStaff)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func (e *consentEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(context.Background(), query, args...).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *consentEnv) bases(t *testing.T, candidateID string) recruit.Bases {
	t.Helper()
	var b recruit.Bases
	if err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) (err error) {
		b, err = recruit.BasesOf(context.Background(), tx, e.tenantID, candidateID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// log returns the candidate's consent log, oldest first.
func (e *consentEnv) log(t *testing.T, candidateID string) []privacy.ConsentLogEntry {
	t.Helper()
	c, err := e.svc.CandidateConsent(context.Background(), e.admin, candidateID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]privacy.ConsentLogEntry, len(c.History))
	for i, h := range c.History {
		out[len(out)-1-i] = h
	}
	return out
}

var consentLink = regexp.MustCompile(`/consent/r/([A-Za-z0-9_-]{43})`)

// mails returns the subjects and texts of the emails queued to address.
func (e *consentEnv) mails(t *testing.T, address string) (subjects, texts []string) {
	t.Helper()
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
				To      []string
				Subject string
				Text    string
			}
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				return err
			}
			if len(m.To) == 1 && m.To[0] == address {
				subjects, texts = append(subjects, m.Subject), append(texts, m.Text)
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return subjects, texts
}

// requestToken asks the candidate for consent and returns the link's secret.
func (e *consentEnv) requestToken(t *testing.T, app *recruit.Application, kind string) string {
	t.Helper()
	sent, skipped, err := e.svc.RequestConsent(context.Background(), e.recruiter, []string{app.Candidate.ID}, kind)
	if err != nil || sent != 1 || skipped != 0 {
		t.Fatalf("request: sent %d skipped %d %v, want 1 0", sent, skipped, err)
	}
	_, texts := e.mails(t, app.Candidate.Email)
	m := consentLink.FindStringSubmatch(texts[len(texts)-1])
	if m == nil {
		t.Fatalf("no consent link in %q", texts[len(texts)-1])
	}
	return m[1]
}

func TestConsentTextVersions(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	langs, err := e.svc.ConsentTexts(ctx, e.admin)
	if err != nil || len(langs) != 5 {
		t.Fatalf("texts: %d languages %v, want 5", len(langs), err)
	}
	for _, l := range langs {
		if !l.Current.Builtin() || l.Current.Version != recruit.TalentPoolConsentVersion || len(l.Versions) != 0 || !strings.Contains(l.Builtin, "Acme") {
			t.Fatalf("%s before any save: %+v, want the built-in text naming the company", l.Language, l)
		}
	}
	first, saved, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "  Souhlasím s uložením v databázi.\r\n\r\nMohu odvolat.  ")
	if err != nil || !saved || first.Version != "company:1" || first.Body != "Souhlasím s uložením v databázi.\n\nMohu odvolat." {
		t.Fatalf("first save: %+v %v %v, want company:1 with the text trimmed", first, saved, err)
	}
	if again, saved, err := e.svc.SaveConsentText(ctx, e.admin, "cs", first.Body+"\n"); err != nil || saved || again.Version != "company:1" {
		t.Fatalf("the same text again: %+v %v %v, want no new version", again, saved, err)
	}
	second, saved, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "Druhé znění.")
	if err != nil || !saved || second.Version != "company:2" {
		t.Fatalf("second save: %+v %v %v, want company:2", second, saved, err)
	}
	// The first version is kept as it was; the other languages are untouched.
	err = e.kit.DB.ReadTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		old, err := recruit.ConsentTextOfTx(ctx, tx, e.tenantID, "cs", "company:1")
		if err != nil || old.Body != first.Body {
			return fmt.Errorf("version 1 reads %+v %v, want its own text", old, err)
		}
		if en, err := recruit.CurrentConsentTextTx(ctx, tx, e.tenantID, "en"); err != nil || !en.Builtin() {
			return fmt.Errorf("English: %+v %v, want the built-in text", en, err)
		}
		if _, err := recruit.ConsentTextOfTx(ctx, tx, e.tenantID, "cs", "company:3"); !errors.Is(err, recruit.ErrNotFound) {
			return fmt.Errorf("version 3: %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	langs, _ = e.svc.ConsentTexts(ctx, e.admin)
	for _, l := range langs {
		if l.Language == "cs" && (l.Current.Version != "company:2" || len(l.Versions) != 2 || l.Versions[1].Body != first.Body || l.Versions[0].CreatedBy != e.admin.UserID) {
			t.Fatalf("Czech history: %+v", l)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2`, e.tenantID, string(audit.ConsentTextSaved)); n != 2 {
		t.Fatalf("%d audit records of saved texts, want 2", n)
	}
	for _, c := range []struct {
		lang, body, field, key string
	}{
		{"cs", "   ", "body_cs", "consent_texts.error.empty"},
		{"cs", strings.Repeat("x", privacy.MaxConsentText+1), "body_cs", "consent_texts.error.text"},
		{"cs", "bad \x00 byte", "body_cs", "consent_texts.error.text"},
		{"de", "Text", "language", "consent_texts.error.language"},
	} {
		_, _, err := e.svc.SaveConsentText(ctx, e.admin, c.lang, c.body)
		if msgs := fault.Messages(err); msgs[c.field] != c.key {
			t.Errorf("save %q in %s: %v, want %s on %s", c.body[:min(len(c.body), 12)], c.lang, err, c.key, c.field)
		}
	}
	if _, _, err := e.svc.SaveConsentText(ctx, e.recruiter, "cs", "Text"); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a recruiter saves a text: %v, want forbidden", err)
	}
	if _, err := e.svc.ConsentTexts(ctx, e.recruiter); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a recruiter reads the texts: %v, want forbidden", err)
	}
}

// Saves of one language at once each get their own version.
func TestConsentTextVersionsRace(t *testing.T) {
	e := newConsentEnv(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.svc.SaveConsentText(context.Background(), e.admin, "sv", fmt.Sprintf("Text nummer %d.", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.count(t, `SELECT count(DISTINCT version) FROM consent_texts WHERE tenant_id = $1 AND language = 'sv'`, e.tenantID); got != n {
		t.Fatalf("%d distinct versions, want %d", got, n)
	}
	if got := e.count(t, `SELECT max(version) FROM consent_texts WHERE tenant_id = $1 AND language = 'sv'`, e.tenantID); got != n {
		t.Fatalf("newest version %d, want %d", got, n)
	}
}

// The career page records the company's text in force for the form's
// language, and the confirmation shows that very text.
func TestCareerConsentUsesCompanyText(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	if _, _, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "Firemní text souhlasu."); err != nil {
		t.Fatal(err)
	}
	cv := &recruit.Upload{Name: "cv.pdf", Data: []byte("%PDF-1.7\nCV\n%%EOF\n")}
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: "Jana Nová", Email: "jana@example.org", CV: cv,
		TalentPool: true, SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kit.Recruit.Apply(ctx, e.tenantID, e.position.ID, recruit.ApplyInput{Name: "Petr Starý", Email: "petr@example.org", CV: cv,
		SubmissionID: id.New()}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM consent_log WHERE tenant_id = $1 AND event = 'refused' AND text_version = 'company:1' AND language = 'cs'`, e.tenantID); n != 1 {
		t.Fatalf("%d refusals of the company's text, want 1", n)
	}
	// A newer version does not change what the candidate ticked.
	if _, _, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "Novější text."); err != nil {
		t.Fatal(err)
	}
	_, texts := e.mails(t, "jana@example.org")
	m := regexp.MustCompile(`/consent/([A-Za-z0-9_-]{43})`).FindStringSubmatch(strings.Join(texts, "\n"))
	if m == nil {
		t.Fatal("no confirmation link")
	}
	p, err := e.kit.Recruit.ConsentToConfirm(ctx, m[1])
	if err != nil || p.Text.Version != "company:1" || p.Text.Body != "Firemní text souhlasu." || p.Text.Builtin() {
		t.Fatalf("pending consent: %+v %v, want company:1 with its text", p, err)
	}
	if _, err := e.kit.Recruit.ConfirmConsent(ctx, m[1]); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM consent_log WHERE tenant_id = $1 AND event = 'granted' AND text_version = 'company:1' AND referral = 'career_page'`, e.tenantID); n != 1 {
		t.Fatalf("%d grants of company:1, want 1", n)
	}
}

func TestConsentRequestGrantAndRefuse(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	if _, _, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "Text pro žádost."); err != nil {
		t.Fatal(err)
	}
	app := e.candidate(t, "Eva Dvořák", "eva@example.org")
	token := e.requestToken(t, app, privacy.RequestConsentKind)
	subjects, texts := e.mails(t, "eva@example.org")
	if !strings.Contains(subjects[0], "Acme") || !strings.Contains(texts[0], "https://kandidat.test/consent/r/"+token) || !strings.Contains(texts[0], "Eva Dvořák") {
		t.Fatalf("email %q / %q: want the company, the link and the name", subjects[0], texts[0])
	}
	if !strings.Contains(texts[0], "Dobrý den") {
		t.Fatalf("email in %q, want Czech (the position's language)", texts[0])
	}
	// The card's history keeps the email without the link.
	if n := e.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND application_id = $2 AND kind = 'consent_request'`, e.tenantID, app.ID); n != 1 {
		t.Fatalf("%d kept messages, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND body LIKE $2`, e.tenantID, "%"+token+"%"); n != 0 {
		t.Fatal("the kept message holds the link")
	}
	// A second request while one waits is skipped.
	if sent, skipped, err := e.svc.RequestConsent(ctx, e.recruiter, []string{app.Candidate.ID}, privacy.RequestConsentKind); err != nil || sent != 0 || skipped != 1 {
		t.Fatalf("second request: %d %d %v, want 0 sent 1 skipped", sent, skipped, err)
	}
	c, err := e.svc.CandidateConsent(ctx, e.recruiter, app.Candidate.ID)
	if err != nil || c.Pending == nil || c.Pending.Kind != "request" || c.State != privacy.ConsentStateNone || !c.CanAct {
		t.Fatalf("card before the answer: %+v %v", c, err)
	}
	v, err := e.svc.ConsentRequest(ctx, token)
	if err != nil || v.Company != "Acme" || v.Language != "cs" || v.Text.Body != "Text pro žádost." || v.Kind != "request" {
		t.Fatalf("request page: %+v %v", v, err)
	}
	v, err = e.svc.AnswerConsentRequest(ctx, token, true)
	if err != nil || v.Answer != "granted" || v.ValidUntil.IsZero() {
		t.Fatalf("grant: %+v %v", v, err)
	}
	log := e.log(t, app.Candidate.ID)
	last := log[len(log)-1]
	if last.Event != "granted" || last.Referral != "request" || last.TextVersion != "company:1" || last.Language != "cs" || last.Email != "eva@example.org" ||
		last.GivenName != "Eva" || last.FamilyName != "Dvořák" || last.RecordedBy != "" {
		t.Fatalf("log entry: %+v", last)
	}
	if b := e.bases(t, app.Candidate.ID); !b.ConsentUntil.Equal(v.ValidUntil) || b.ConsentUntil.Before(e.now.AddDate(1, 11, 0)) {
		t.Fatalf("bases %+v, want the consent until %v (the company's 24 months)", b, v.ValidUntil)
	}
	// Used, forged, and malformed links.
	if _, err := e.svc.AnswerConsentRequest(ctx, token, false); !errors.Is(err, privacy.ErrConsentLinkUsed) || !errors.Is(err, fault.ErrGone) {
		t.Fatalf("used link: %v, want gone (used)", err)
	}
	if _, err := e.svc.ConsentRequest(ctx, token); !errors.Is(err, privacy.ErrConsentLinkUsed) {
		t.Fatalf("used link's page: %v, want used", err)
	}
	forged, _ := id.NewToken()
	for _, tok := range []string{forged, "", "x", strings.Repeat("A", 500)} {
		if _, err := e.svc.AnswerConsentRequest(ctx, tok, true); !errors.Is(err, privacy.ErrNotFound) {
			t.Fatalf("forged link %q: %v, want not found", tok, err)
		}
	}
	// A renewal refused ends the consent.
	token = e.requestToken(t, app, privacy.RenewConsentKind)
	if v, err := e.svc.AnswerConsentRequest(ctx, token, false); err != nil || v.Answer != "refused" {
		t.Fatalf("refuse: %+v %v", v, err)
	}
	log = e.log(t, app.Candidate.ID)
	if last := log[len(log)-1]; last.Event != "refused" || last.Referral != "renewal" || !last.ValidUntil.IsZero() {
		t.Fatalf("refusal entry: %+v", last)
	}
	if b := e.bases(t, app.Candidate.ID); !b.ConsentUntil.IsZero() {
		t.Fatalf("consent after a refused renewal: %v, want none", b.ConsentUntil)
	}
	if c, _ := e.svc.CandidateConsent(ctx, e.recruiter, app.Candidate.ID); c.State != privacy.ConsentStateRefused || c.Pending != nil {
		t.Fatalf("card after the refusal: %+v", c)
	}
	// An expired link records nothing.
	token = e.requestToken(t, app, privacy.RequestConsentKind)
	e.now = e.now.Add(privacy.ConsentRequestValidity + time.Minute)
	if _, err := e.svc.ConsentRequest(ctx, token); !errors.Is(err, privacy.ErrConsentLinkExpired) {
		t.Fatalf("expired link's page: %v, want expired", err)
	}
	if _, err := e.svc.AnswerConsentRequest(ctx, token, true); !errors.Is(err, privacy.ErrConsentLinkExpired) {
		t.Fatalf("expired link: %v, want expired", err)
	}
	if got := len(e.log(t, app.Candidate.ID)); got != len(log) {
		t.Fatalf("an expired link added to the log: %d entries, want %d", got, len(log))
	}
	// Once expired, a new request may be sent.
	if sent, _, err := e.svc.RequestConsent(ctx, e.recruiter, []string{app.Candidate.ID}, privacy.RenewConsentKind); err != nil || sent != 1 {
		t.Fatalf("a request after the last expired: %d %v, want sent", sent, err)
	}
}

func TestConsentRequestWho(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	app := e.candidate(t, "Ola Nordmann", "ola@example.org")
	other := e.candidate(t, "Kari Nordmann", "kari@example.org")
	// Otto's position is not theirs' position; Lina may not act; the administrator holds privacy.settings.
	if _, _, err := e.svc.RequestConsent(ctx, e.other, []string{app.Candidate.ID}, "request"); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("another recruiter: %v, want not found", err)
	}
	if _, _, err := e.svc.RequestConsent(ctx, e.lm, []string{app.Candidate.ID}, "request"); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a line manager: %v, want forbidden", err)
	}
	if _, err := e.svc.CandidateConsent(ctx, e.other, app.Candidate.ID); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("another recruiter reads the consent: %v, want not found", err)
	}
	// Both denials are in the security log.
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2 AND actor_id = $3 AND track = 'security'`,
		e.tenantID, string(audit.AccessDecided), e.other.UserID); n != 2 {
		t.Fatalf("%d denials of the other recruiter in the security log, want 2", n)
	}
	// An id the company does not have is not found, and the trail does not name it.
	stranger := id.New()
	if _, _, err := e.svc.RequestConsent(ctx, e.other, []string{stranger}, "request"); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("an unknown candidate: %v, want not found", err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND objects LIKE $2`, e.tenantID, "%"+stranger+"%"); n != 0 {
		t.Fatalf("the trail names an unknown id %d times", n)
	}
	unknown := id.New()
	sent, skipped, err := e.svc.RequestConsent(ctx, e.admin, []string{app.Candidate.ID, other.Candidate.ID, unknown, "NOT AN ID"}, "renewal")
	if err != nil || sent != 2 || skipped != 1 {
		t.Fatalf("administrator's bulk: %d sent %d skipped %v, want 2 and 1", sent, skipped, err)
	}
	if sent, skipped, err := e.svc.RequestConsent(ctx, e.other, []string{app.Candidate.ID, other.Candidate.ID}, "renewal"); err != nil || sent != 0 || skipped != 2 {
		t.Fatalf("another recruiter's bulk: %d %d %v, want all skipped", sent, skipped, err)
	}
	for _, c := range []struct {
		ids  []string
		kind string
		key  string
	}{
		{[]string{app.Candidate.ID}, "please", "consent_request.error.kind"},
		{nil, "request", "consent_request.error.selection"},
	} {
		if _, _, err := e.svc.RequestConsent(ctx, e.recruiter, c.ids, c.kind); len(fault.Messages(err)) == 0 || fault.Messages(err)[firstKey(fault.Messages(err))] != c.key {
			t.Errorf("%v %q: %v, want %s", c.ids, c.kind, err, c.key)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2`, e.tenantID, string(audit.ConsentRequested)); n != 2 {
		t.Fatalf("%d records of requests, want 2", n)
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// Of many answers to one link at once, one is recorded; of many requests
// to one candidate at once, one is sent.
func TestConsentRequestRaces(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	app := e.candidate(t, "Race Candidate", "race@example.org")
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent, answered, gone := 0, 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _, err := e.svc.RequestConsent(ctx, e.recruiter, []string{app.Candidate.ID}, "request")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sent += s
			mu.Unlock()
		}()
	}
	wg.Wait()
	if sent != 1 || e.count(t, `SELECT count(*) FROM consent_requests WHERE tenant_id = $1`, e.tenantID) != 1 {
		t.Fatalf("%d requests sent at once, want 1", sent)
	}
	_, texts := e.mails(t, "race@example.org")
	if len(texts) != 1 {
		t.Fatalf("%d emails, want 1", len(texts))
	}
	token := consentLink.FindStringSubmatch(texts[0])[1]
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.AnswerConsentRequest(ctx, token, i%2 == 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				answered++
			case errors.Is(err, privacy.ErrConsentLinkUsed):
				gone++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if answered != 1 || gone != n-1 {
		t.Fatalf("%d answers recorded, %d refused as used; want 1 and %d", answered, gone, n-1)
	}
	if got := e.count(t, `SELECT count(*) FROM consent_log WHERE tenant_id = $1 AND candidate_id = $2`, e.tenantID, app.Candidate.ID); got != 1 {
		t.Fatalf("%d log entries, want 1", got)
	}
}

func TestManualConsentAndWithdrawal(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	app := e.candidate(t, "Manual Person", "manual@example.org")
	cid := app.Candidate.ID
	loc, _ := time.LoadLocation("Europe/Stockholm")
	today := e.now.In(loc).Format(time.DateOnly)
	tomorrow := e.now.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	longAgo := e.now.In(loc).AddDate(-2, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		name  string
		in    privacy.ManualConsent
		field string
		key   string
	}{
		{"future", privacy.ManualConsent{Date: tomorrow, Evidence: "Signed form"}, "consent_date", "consent.error.date_future"},
		{"no date", privacy.ManualConsent{Date: "", Evidence: "Signed form"}, "consent_date", "consent.error.date"},
		{"bad date", privacy.ManualConsent{Date: "3.12.2026", Evidence: "Signed form"}, "consent_date", "consent.error.date"},
		{"ended already", privacy.ManualConsent{Date: longAgo, Months: "24", Evidence: "Signed form"}, "consent_date", "consent.error.date_past"},
		{"zero months", privacy.ManualConsent{Date: today, Months: "0", Evidence: "Signed form"}, "consent_months", "consent.error.months"},
		{"too many months", privacy.ManualConsent{Date: today, Months: "37", Evidence: "Signed form"}, "consent_months", "consent.error.months"},
		{"months not a number", privacy.ManualConsent{Date: today, Months: "two", Evidence: "Signed form"}, "consent_months", "consent.error.months"},
		{"no evidence", privacy.ManualConsent{Date: today, Evidence: "  "}, "consent_evidence", "consent.error.evidence_required"},
		{"evidence too long", privacy.ManualConsent{Date: today, Evidence: strings.Repeat("ž", privacy.MaxEvidence+1)}, "consent_evidence", "consent.error.evidence"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.RecordManualConsent(ctx, e.recruiter, cid, c.in)
			if got := fault.Messages(err)[c.field]; got != c.key {
				t.Fatalf("%v: %s = %q, want %q", err, c.field, got, c.key)
			}
		})
	}
	if n := e.count(t, `SELECT count(*) FROM consent_log WHERE tenant_id = $1 AND candidate_id = $2`, e.tenantID, cid); n != 0 {
		t.Fatalf("refused entries logged %d rows", n)
	}
	// 2,000 characters of evidence in a language of two bytes each are allowed.
	evidence := strings.Repeat("ž", privacy.MaxEvidence-20) + " signed on paper"
	weekAgo := e.now.In(loc).AddDate(0, 0, -7)
	until, err := e.svc.RecordManualConsent(ctx, e.recruiter, cid, privacy.ManualConsent{Date: weekAgo.Format(time.DateOnly), Months: "12", Evidence: evidence})
	if err != nil {
		t.Fatal(err)
	}
	day, _ := time.ParseInLocation(time.DateOnly, weekAgo.Format(time.DateOnly), loc)
	if want := tenant.AddMonths(day, 12, loc); !until.Equal(want) {
		t.Fatalf("valid until %v, want %v (12 months from the date given)", until, want)
	}
	log := e.log(t, cid)
	if len(log) != 1 || log[0].Referral != "manual" || log[0].Evidence != evidence || log[0].RecordedBy != e.recruiter.UserID || !log[0].CreatedAt.Equal(day) {
		t.Fatalf("log: %+v", log)
	}
	if b := e.bases(t, cid); !b.ConsentUntil.Equal(until) || !b.Until.Equal(until) {
		t.Fatalf("bases %+v, want the consent until %v", b, until)
	}
	// Withdrawal ends the consent now.
	if err := e.svc.RecordWithdrawal(ctx, e.other, cid, "by phone"); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("another recruiter withdraws: %v, want not found", err)
	}
	if err := e.svc.RecordWithdrawal(ctx, e.recruiter, cid, "Called on 3 Dec, asked to be removed"); err != nil {
		t.Fatal(err)
	}
	b := e.bases(t, cid)
	if !b.ConsentUntil.IsZero() || !b.Until.Equal(b.PurposeUntil) {
		t.Fatalf("bases after the withdrawal: %+v, want the purpose only", b)
	}
	log = e.log(t, cid)
	if w := log[len(log)-1]; w.Event != "withdrawn" || w.Referral != "manual" || w.Evidence != "Called on 3 Dec, asked to be removed" {
		t.Fatalf("withdrawal entry: %+v", w)
	}
	if c, _ := e.svc.CandidateConsent(ctx, e.recruiter, cid); c.State != privacy.ConsentStateWithdrawn {
		t.Fatalf("state %q, want withdrawn", c.State)
	}
	if err := e.svc.RecordWithdrawal(ctx, e.recruiter, cid, ""); !errors.Is(err, privacy.ErrNoConsent) {
		t.Fatalf("withdrawal without a consent: %v, want ErrNoConsent", err)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2`, e.tenantID, string(audit.ConsentRecorded)); n != 2 {
		t.Fatalf("%d consent records in the trail, want 2", n)
	}
	if _, err := e.svc.RecordManualConsent(ctx, e.lm, cid, privacy.ManualConsent{Date: today, Evidence: "x"}); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a line manager enters a consent: %v, want forbidden", err)
	}
}

func TestConsentLogPageExportAndPrune(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	if _, err := e.kit.Tenants.ByID(ctx, e.tenantID); err != nil {
		t.Fatal(err)
	}
	if err := e.kit.Tenants.SavePrivacy(ctx, e.admin, tenant.Privacy{RegistrationNumber: "556677-8899"}); err != nil {
		t.Fatal(err)
	}
	// A name a spreadsheet would run as a formula.
	evil := e.candidate(t, "=HYPERLINK(\"x\") -Evil", "evil@example.org")
	plain := e.candidate(t, "Plain Person", "plain@example.org")
	today := e.now.In(time.UTC).Format(time.DateOnly)
	for _, app := range []*recruit.Application{evil, plain} {
		if _, err := e.svc.RecordManualConsent(ctx, e.recruiter, app.Candidate.ID, privacy.ManualConsent{Date: today, Evidence: "@form"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.RecordWithdrawal(ctx, e.recruiter, plain.Candidate.ID, ""); err != nil {
		t.Fatal(err)
	}
	// The page: newest first, a page at a time, filtered by event.
	p, err := e.svc.ConsentLog(ctx, e.admin, privacy.ConsentLogFilter{Limit: 2})
	if err != nil || len(p.Entries) != 2 || p.Next == "" || p.Entries[0].Event != "withdrawn" {
		t.Fatalf("first page: %+v %v", p, err)
	}
	p2, err := e.svc.ConsentLog(ctx, e.admin, privacy.ConsentLogFilter{Limit: 2, After: p.Next})
	if err != nil || len(p2.Entries) != 1 || p2.Next != "" || p2.Entries[0].ID == p.Entries[1].ID {
		t.Fatalf("second page: %+v %v", p2, err)
	}
	if g, _ := e.svc.ConsentLog(ctx, e.admin, privacy.ConsentLogFilter{Event: "granted"}); len(g.Entries) != 2 {
		t.Fatalf("granted only: %d entries, want 2", len(g.Entries))
	}
	yesterday := e.now.AddDate(0, 0, -1).In(time.UTC).Format(time.DateOnly)
	if g, _ := e.svc.ConsentLog(ctx, e.admin, privacy.ConsentLogFilter{To: yesterday}); len(g.Entries) != 0 {
		t.Fatalf("up to yesterday: %d entries, want 0", len(g.Entries))
	}
	for _, f := range []privacy.ConsentLogFilter{{Event: "maybe"}, {From: "yesterday"}, {From: today, To: yesterday}, {After: "garbage"}} {
		if _, err := e.svc.ConsentLog(ctx, e.admin, f); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("filter %+v: %v, want invalid", f, err)
		}
	}
	if _, err := e.svc.ConsentLog(ctx, e.recruiter, privacy.ConsentLogFilter{}); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a recruiter reads the log: %v, want forbidden", err)
	}
	// The export.
	var buf bytes.Buffer
	n, err := e.svc.ExportConsentLog(ctx, e.admin, privacy.ConsentLogFilter{}, &buf)
	if err != nil || n != 3 {
		t.Fatalf("export: %d %v, want 3 rows", n, err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("csv: %d rows %v", len(rows), err)
	}
	if strings.Join(rows[0], ",") != "name,surname,email,business_id,date,event,referral,text_version,language,valid_until" {
		t.Fatalf("header %v", rows[0])
	}
	var evilRow []string
	for _, r := range rows[1:] {
		if r[2] == "evil@example.org" {
			evilRow = r
		}
		if r[3] != "556677-8899" || r[8] != "cs" || r[7] != recruit.TalentPoolConsentVersion {
			t.Errorf("row %v: want the business id, the language and the text version", r)
		}
		if (r[5] == "granted") == (r[9] == "") {
			t.Errorf("row %v: valid until only for a grant", r)
		}
	}
	if evilRow == nil || evilRow[0] != "'=HYPERLINK(\"x\")" || evilRow[1] != "'-Evil" || evilRow[6] != "manual" {
		t.Fatalf("the formula's row: %q, want its cells defused", evilRow)
	}
	if _, err := time.Parse(time.RFC3339, evilRow[4]); err != nil {
		t.Fatalf("date %q: %v", evilRow[4], err)
	}
	if got := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2 AND track = 'gdpr'`, e.tenantID, string(audit.ConsentLogExported)); got != 1 {
		t.Fatalf("%d export records on the GDPR track, want 1", got)
	}
	if _, err := e.svc.ExportConsentLog(ctx, e.recruiter, privacy.ConsentLogFilter{}, &buf); !errors.Is(err, privacy.ErrForbidden) {
		t.Fatalf("a recruiter exports: %v, want forbidden", err)
	}
	// Ten years on (and a day), the entries go; younger ones stay.
	old := e.candidate(t, "Old Entry", "old@example.org")
	err = e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
		_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: old.Candidate.ID, Event: recruit.ConsentRefused,
			TextVersion: recruit.TalentPoolConsentVersion, Language: "en", Referral: recruit.ReferralImport, At: e.now.AddDate(-10, 0, -2)}, e.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pruned, err := e.svc.PruneConsentLog(ctx, e.now)
	if err != nil || pruned != 1 {
		t.Fatalf("prune: %d %v, want 1", pruned, err)
	}
	if got := e.count(t, `SELECT count(*) FROM consent_log WHERE tenant_id = $1`, e.tenantID); got != 3 {
		t.Fatalf("%d entries left, want 3", got)
	}
	if again, err := e.svc.PruneConsentLog(ctx, e.now); err != nil || again != 0 {
		t.Fatalf("second prune: %d %v, want 0", again, err)
	}
	if got := e.count(t, `SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND action = $2`, e.tenantID, string(audit.ConsentLogPruned)); got != 1 {
		t.Fatalf("%d prune records, want 1", got)
	}
}

// TestWithdrawalsRecordTheGrantedText: a withdrawal names the text the
// candidate consented to, whoever records it: staff on the card and the
// candidate through the self-service record the grant's version and
// language, not the company's text in force at the withdrawal.
func TestWithdrawalsRecordTheGrantedText(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	grant := func(cid string) {
		t.Helper()
		err := e.kit.DB.InTx(ctx, e.tenantID, func(tx *sql.Tx) error {
			_, err := recruit.RecordConsent(ctx, tx, e.tenantID, recruit.ConsentEntry{CandidateID: cid, Event: recruit.ConsentGranted,
				TextVersion: "talent-pool-test-7", Language: "nb", Referral: recruit.ReferralCareerPage}, e.now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	staff := e.candidate(t, "Stina Staff", "stina@example.org")
	self := e.candidate(t, "Sigurd Self", "sigurd@example.org")
	grant(staff.Candidate.ID)
	grant(self.Candidate.ID)
	// The company's text changes after the grants.
	if _, _, err := e.svc.SaveConsentText(ctx, e.admin, "cs", "Nové znění souhlasu."); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RecordWithdrawal(ctx, e.recruiter, staff.Candidate.ID, "by phone"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RequestLink(ctx, e.tenantID, self.Candidate.Email, "en"); err != nil {
		t.Fatal(err)
	}
	_, texts := e.mails(t, self.Candidate.Email)
	m := regexp.MustCompile(`/my-data/([A-Za-z0-9_-]{43})`).FindStringSubmatch(texts[len(texts)-1])
	if m == nil {
		t.Fatalf("no self-service link in %q", texts[len(texts)-1])
	}
	_, subj, err := e.svc.StartSession(ctx, m[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.WithdrawConsent(ctx, subj); err != nil {
		t.Fatal(err)
	}
	for who, cid := range map[string]string{"staff": staff.Candidate.ID, "self-service": self.Candidate.ID} {
		log := e.log(t, cid)
		w := log[len(log)-1]
		if w.Event != "withdrawn" || w.TextVersion != "talent-pool-test-7" || w.Language != "nb" {
			t.Errorf("%s withdrawal: event %s, text %s in %s, want withdrawn, talent-pool-test-7 in nb", who, w.Event, w.TextVersion, w.Language)
		}
	}
}
