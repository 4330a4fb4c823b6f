package privacy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
)

// digestEnv is a company whose candidates' bases end at chosen times, with
// users of every kind the digest tells (or does not).
type digestEnv struct {
	kit      *testkit.Kit
	tenantID string
	users    map[string]access.Actor
	names    []string // the candidates' names and addresses, never in an email
}

func newDigestEnv(t *testing.T, now time.Time) *digestEnv {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	c := k.Company(t, tenant.CreateInput{Slug: "acme", Name: "Acme"})
	e := &digestEnv{kit: k, tenantID: c.ID, users: map[string]access.Actor{}}
	for _, u := range []struct{ login, role, lang string }{
		{"ada-admin", access.Administrator, "en"}, {"hugo-hr", access.HRManager, "sv"}, {"rita-recruiter", access.Recruiter, "cs"},
		{"idle-recruiter", access.Recruiter, "en"}, {"lena-line", access.LineManager, "en"}, {"cora-cases", access.CaseHandler, "en"},
	} {
		made, err := k.Accounts.CreateUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: u.login, DisplayName: u.login,
			Email: u.login + "@acme.test", Language: u.lang, Password: testkit.Password, Role: u.role})
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Accounts.Principal(ctx, c.ID, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.users[u.login] = p.Actor()
	}
	k.Recruit.SetClock(func() time.Time { return now })
	day := 24 * time.Hour
	for _, x := range []struct {
		owner, name string
		ends        time.Duration
	}{
		{"hugo-hr", "Ulrika Urgent", 10 * day},
		{"hugo-hr", "Lars Later", 150 * day},
		{"rita-recruiter", "Bohdan Brzy", 20 * day},
		{"rita-recruiter", "Ended Erik", -day},
	} {
		p, err := k.Recruit.CreatePosition(ctx, e.users[x.owner], recruit.PositionInput{Title: "Role of " + x.name, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		email := strings.ToLower(strings.Fields(x.name)[0]) + "@candidate.test"
		app, err := k.Recruit.AddCandidate(ctx, e.users[x.owner], p.ID, recruit.CandidateInput{Name: x.name, Email: email}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		e.names = append(e.names, x.name, email)
		until := now.Add(x.ends)
		if err := k.DB.InTx(ctx, c.ID, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE candidates SET purpose_until = $3, basis_until = $3 WHERE tenant_id = $1 AND id = $2`, c.ID, app.Candidate.ID, until)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type digestMail struct {
	to, subject, text string
}

// digests reads the queued digests, by recipient.
func (e *digestEnv) digests(t *testing.T) map[string][]digestMail {
	t.Helper()
	out := map[string][]digestMail{}
	err := e.kit.DB.ReadTx(context.Background(), e.tenantID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(context.Background(), `SELECT message FROM email_queue WHERE tenant_id = $1`, e.tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var m notify.Message
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				return err
			}
			if !strings.Contains(m.Text, "/privacy/expiring") {
				continue // not a digest
			}
			out[m.To[0]] = append(out[m.To[0]], digestMail{m.To[0], m.Subject, m.Text})
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func digestCount(m map[string][]digestMail) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// TestWeeklyDigest: once a week each user holding privacy.settings is told
// the company's count and each owner of positions the count of their
// candidates, in their language, with the link to the list and no
// candidate's name or address; a second run that week sends nothing; the
// next week sends again.
func TestWeeklyDigest(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // a Wednesday
	e := newDigestEnv(t, now)
	ctx := context.Background()
	k := e.kit
	k.Privacy.SetClock(func() time.Time { return now })
	sent, err := k.Privacy.SendDigests(ctx, k.Accounts.ListUsers)
	if err != nil {
		t.Fatal(err)
	}
	got := e.digests(t)
	var to []string
	for addr := range got {
		to = append(to, addr)
	}
	slices.Sort(to)
	// The administrator: the company's 3; the HR manager and the recruiter:
	// their positions' (1 and 2). Nobody else has anything to be told.
	if want := []string{"ada-admin@acme.test", "hugo-hr@acme.test", "rita-recruiter@acme.test"}; !slices.Equal(to, want) || sent != 3 {
		t.Fatalf("digests to %v (%d sent), want %v", to, sent, want)
	}
	for addr, want := range map[string]struct{ subject, text string }{
		"ada-admin@acme.test":      {"Acme: 3 candidates' data ends within two months", "In the company, 3 candidates' data ends"},
		"hugo-hr@acme.test":        {"Acme: uppgifterna om 1 kandidat upphör inom två månader", "Bland kandidaterna till dina tjänster upphör uppgifterna om 1 kandidat"},
		"rita-recruiter@acme.test": {"Acme: údaje 2 kandidátů končí do dvou měsíců", "Z kandidátů vašich pozic končí do dvou měsíců údaje 2 kandidátů"},
	} {
		m := got[addr][0]
		if m.subject != want.subject || !strings.Contains(m.text, want.text) || !strings.Contains(m.text, "https://kandidat.test/privacy/expiring") {
			t.Errorf("digest to %s:\n%s\n%s\nwant subject %q and %q with the link", addr, m.subject, m.text, want.subject, want.text)
		}
		for _, personal := range e.names {
			if strings.Contains(m.text, personal) || strings.Contains(m.subject, personal) {
				t.Errorf("digest to %s names %q", addr, personal)
			}
		}
	}
	// The same week: nothing more, however often the job runs.
	now = now.Add(26 * time.Hour)
	if sent, err := k.Privacy.SendDigests(ctx, k.Accounts.ListUsers); err != nil || sent != 0 || digestCount(e.digests(t)) != 3 {
		t.Fatalf("second run of the week: %d sent, %v; %d digests", sent, err, digestCount(e.digests(t)))
	}
	// Monday of the next week before seven (London): not yet; at eight: due.
	now = time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)
	if sent, err := k.Privacy.SendDigests(ctx, k.Accounts.ListUsers); err != nil || sent != 0 {
		t.Fatalf("Monday at dawn: %d sent, %v", sent, err)
	}
	now = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	if sent, err := k.Privacy.SendDigests(ctx, k.Accounts.ListUsers); err != nil || sent != 3 || digestCount(e.digests(t)) != 6 {
		t.Fatalf("next week: %d sent, %v", sent, err)
	}
}

// TestWeeklyDigestRace: runs at the same moment (two instances, or the
// job twice) send one digest per user and week: the week is spent by a
// conditional insert in the transaction that queues the email.
func TestWeeklyDigestRace(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	e := newDigestEnv(t, now)
	ctx := context.Background()
	k := e.kit
	var services []*privacy.Service
	for range 6 {
		s := privacy.NewService(k.DB, privacy.Options{Audit: k.Audit, Recruit: k.Recruit, Tenants: k.Tenants, Blobs: k.Blobs, Queue: k.Queue,
			I18n: k.I18n, BaseURL: "https://kandidat.test"})
		s.SetClock(func() time.Time { return now })
		services = append(services, s)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	start := make(chan struct{})
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			n, err := s.SendDigests(ctx, k.Accounts.ListUsers)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if got := e.digests(t); total != 3 || digestCount(got) != 3 || len(got) != 3 {
		t.Fatalf("%d runs at once sent %d (reported %d) to %d people, want 3 to 3", len(services), digestCount(got), total, len(got))
	}
}

// TestWeek: the ISO week on the company's calendar.
func TestWeek(t *testing.T) {
	sto, _ := time.LoadLocation("Europe/Stockholm")
	at := time.Date(2027, 1, 3, 23, 30, 0, 0, time.UTC) // Monday 4 January 00:30 in Stockholm
	if got := privacy.Week(at, sto); got != "2027-W01" {
		t.Errorf("week in Stockholm %q, want 2027-W01", got)
	}
	if got := privacy.Week(at, time.UTC); got != "2026-W53" {
		t.Errorf("week in UTC %q, want 2026-W53", got)
	}
}
