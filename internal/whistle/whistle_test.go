package whistle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/whistle"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

func TestMain(m *testing.M) {
	// A cheap argon2id for tests; the benchmarks measure the real one.
	vault.Params = vault.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1}
	os.Exit(m.Run())
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env: a company with the whistleblowing module, two enrolled case
// handlers (Karin and Lars) on one channel, and a clock.
type env struct {
	t       testing.TB
	kit     *testkit.Kit
	svc     *whistle.Service
	company *tenant.Tenant
	karin   access.Actor
	lars    access.Actor
	admin   access.Actor
	channel string
	clock   *clock
	ctx     context.Context
}

const secret = "PlantedSecretOfTheReporter"

func newEnv(t testing.TB) *env {
	t.Helper()
	k := testkit.New(t, testkit.Options{})
	e := &env{t: t, kit: k, svc: k.Whistle, ctx: context.Background(), clock: &clock{now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}}
	e.svc.SetClock(e.clock.Now)
	e.company = k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME", Modules: []tenant.Module{tenant.Whistleblowing}})
	e.karin = k.Actor(t, e.company.ID, "karin", access.CaseHandler)
	e.lars = k.Actor(t, e.company.ID, "lars", access.CaseHandler)
	e.admin = k.Actor(t, e.company.ID, "adam", access.Administrator)
	if err := k.DB.InTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(e.ctx, `UPDATE users SET email = login || '@acme.example' WHERE tenant_id = $1`, e.company.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []access.Actor{e.karin, e.lars} {
		if _, err := e.svc.Enrol(e.ctx, a, testkit.Password, false); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	e.channel, err = e.svc.SaveChannel(e.ctx, e.admin, whistle.Channel{Slug: "group", Name: "Group channel", DefaultLanguage: "en",
		Languages: []string{"en", "sv"}, Intro: map[string]string{"en": "Tell us."},
		Categories: []whistle.Choice{{Key: "c1", Labels: map[string]string{"en": "Fraud", "sv": "Bedrägeri"}}},
		Questions: []whistle.Question{{Key: "q1", Kind: whistle.QuestionDate, Labels: map[string]string{"en": "When?"}},
			{Key: "q2", Kind: whistle.QuestionChoice, Required: true, Labels: map[string]string{"en": "Ongoing?"},
				Choices: []whistle.Choice{{Key: "y", Labels: map[string]string{"en": "Yes"}}, {Key: "n", Labels: map[string]string{"en": "No"}}}}},
		AllowIdentified: true, RetentionDays: 365, Active: true, Handlers: []string{e.karin.UserID, e.lars.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) submit(passphrase string) *whistle.Receipt {
	e.t.Helper()
	r, err := e.svc.Submit(e.ctx, e.company.ID, e.channel, whistle.Submission{Language: "en", Category: "c1",
		Answers: map[string]string{"q1": "2026-11-01", "q2": "y"}, Text: "The manager " + secret + " takes bribes.",
		Name: "Rita Reporter", Contact: "rita@example.com", Passphrase: passphrase,
		Files: []whistle.Upload{{Name: "evidence.txt", Data: []byte("ledger line " + secret + "\n")}}})
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return r
}

func (e *env) handler(a access.Actor) *whistle.Handler {
	e.t.Helper()
	env, err := e.svc.Unlock(e.ctx, a, "session-"+a.UserID, testkit.Password)
	if err != nil {
		e.t.Fatalf("unlock: %v", err)
	}
	h, _, err := e.svc.Handler(e.ctx, a, "session-"+a.UserID, env)
	if err != nil {
		e.t.Fatalf("handler: %v", err)
	}
	return h
}

func (e *env) onlyCase(a access.Actor) *whistle.CaseInfo {
	e.t.Helper()
	cs, err := e.svc.Cases(e.ctx, a, whistle.CaseFilter{Status: "all"})
	if err != nil || len(cs) != 1 {
		e.t.Fatalf("cases: %v %d", err, len(cs))
	}
	return cs[0]
}

func TestDeadlines(t *testing.T) {
	for _, c := range []struct {
		day, want string
		months    int
	}{
		{"2026-11-30", "2027-02-28", 3}, {"2027-11-30", "2028-02-29", 3}, {"2026-01-31", "2026-02-28", 1},
		{"2026-03-31", "2026-04-30", 1}, {"2026-12-10", "2027-03-10", 3}, {"2026-10-31", "2027-01-31", 3},
	} {
		if got := whistle.AddMonths(c.day, c.months); got != c.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.day, c.months, got, c.want)
		}
	}
	for _, c := range []struct{ received, acked, ack, feedback string }{
		{"2026-12-03", "", "2026-12-10", "2027-03-10"},
		{"2026-12-03", "2026-12-05", "2026-12-10", "2027-03-05"},
		// A late acknowledgement does not move feedback later than three months after the seven days.
		{"2026-12-03", "2026-12-20", "2026-12-10", "2027-03-10"},
		{"2026-11-23", "", "2026-11-30", "2027-02-28"},
		{"2028-02-22", "", "2028-02-29", "2028-05-29"},
	} {
		d := whistle.DeadlinesOf(c.received, c.acked)
		if d.AckDue != c.ack || d.FeedbackDue != c.feedback {
			t.Errorf("DeadlinesOf(%s, %q) = %+v, want %s %s", c.received, c.acked, d, c.ack, c.feedback)
		}
	}
	info := whistle.CaseInfo{Status: whistle.Received, Deadlines: whistle.DeadlinesOf("2026-12-03", "")}
	if info.AckLate("2026-12-10") || !info.AckLate("2026-12-11") {
		t.Error("acknowledgement is late from the eighth day on")
	}
}

func TestMask(t *testing.T) {
	got, n := whistle.Mask("Anna Berg met anna in Oslo. Berg paid.", []string{"anna", "Anna Berg", "Berg"})
	if want := "█████████ met ████ in Oslo. ████ paid."; got != want || n != 3 {
		t.Errorf("Mask = %q %d, want %q 3", got, n, want)
	}
	if got, n := whistle.Mask("a.b", []string{"."}); got != "a█b" || n != 1 {
		t.Errorf("a term is literal text, not a pattern: %q %d", got, n)
	}
}

// TestCaseFlow: a report with a file, acknowledged and answered by a
// handler, answered by the reporter with the receipt, noted, redacted,
// closed.
func TestCaseFlow(t *testing.T) {
	e := newEnv(t)
	r := e.submit("")
	if len(strings.ReplaceAll(r.Code, " ", "")) != 24 || r.Deadlines.AckDue != "2026-12-07" || r.Deadlines.FeedbackDue != "2027-03-07" {
		t.Fatalf("receipt %+v", r)
	}
	info := e.onlyCase(e.karin)
	if info.Status != whistle.Received || info.ReceivedOn != "2026-11-30" || !info.Identified {
		t.Fatalf("case %+v", info)
	}
	h := e.handler(e.karin)
	c, err := e.svc.Case(e.ctx, h, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep := c.Entries[0]
	if rep.Kind != whistle.KindReport || !strings.Contains(rep.Content.Text, secret) || rep.Content.Category != "Fraud" || rep.Content.Name != "Rita Reporter" ||
		len(rep.Content.Answers) != 2 || rep.Content.Answers[1].Value != "Yes" || len(rep.Attachments) != 1 {
		t.Fatalf("report %+v", rep)
	}
	f, err := e.svc.Attachment(e.ctx, h, info.ID, rep.Attachments[0].ID)
	if err != nil || !bytes.Contains(f.Data, []byte(secret)) || f.Name != "evidence.txt" {
		t.Fatalf("attachment %v %+v", err, f)
	}
	e.clock.Add(48 * time.Hour)
	if err := e.svc.Acknowledge(e.ctx, h, info.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Acknowledge(e.ctx, h, info.ID, ""); !errors.Is(err, whistle.ErrState) {
		t.Fatalf("second acknowledgement: %v", err)
	}
	if err := e.svc.Reply(e.ctx, h, info.ID, "Can you tell us the amounts?", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Note(e.ctx, h, info.ID, "Private: check with finance"); err != nil {
		t.Fatal(err)
	}
	// The reporter returns.
	env, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "")
	if err != nil {
		t.Fatal(err)
	}
	view, err := e.svc.ReporterView(e.ctx, e.company.ID, env)
	if err != nil {
		t.Fatal(err)
	}
	if view.Info.Status != whistle.Acknowledged || view.Info.AcknowledgedOn != "2026-12-02" || view.Info.Deadlines.FeedbackDue != "2027-03-02" ||
		len(view.Entries) != 3 || view.Unread != 2 {
		t.Fatalf("reporter view %+v %d entries, %d unread", view.Info, len(view.Entries), view.Unread)
	}
	for _, en := range view.Entries {
		if strings.Contains(en.Content.Text, "Private") {
			t.Fatal("the reporter sees a handlers' note")
		}
	}
	if _, err := e.svc.ReporterReply(e.ctx, e.company.ID, env, "About 40,000 EUR.", []whistle.Upload{{Name: "more.txt", Data: []byte("more")}}); err != nil {
		t.Fatal(err)
	}
	if view, _ = e.svc.ReporterView(e.ctx, e.company.ID, env); view.Unread != 0 {
		t.Errorf("unread after reading: %d", view.Unread)
	}
	// Lars reads the answer, redacts, gives feedback and closes.
	hl := e.handler(e.lars)
	c, err = e.svc.Case(e.ctx, hl, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := c.Entries[len(c.Entries)-1]
	if last.AuthorKind != "reporter" || last.Content.Text != "About 40,000 EUR." || len(last.Attachments) != 1 {
		t.Fatalf("reporter's answer %+v", last)
	}
	seq, err := e.svc.Redact(e.ctx, hl, info.ID, 1, []string{secret})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = e.svc.Case(e.ctx, hl, info.ID)
	red := c.Entries[len(c.Entries)-1]
	if red.Seq != seq || red.Kind != whistle.KindRedaction || strings.Contains(red.Content.Text, secret) || strings.Contains(red.Content.Text, "Rita") ||
		!strings.Contains(red.Content.Text, "takes bribes") || red.Content.Masked != 1 {
		t.Fatalf("redaction %+v", red)
	}
	if c.Entries[0].Content.Text != rep.Content.Text {
		t.Fatal("the original changed")
	}
	if err := e.svc.Reply(e.ctx, hl, info.ID, "We investigated and took measures.", nil, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(e.ctx, hl, info.ID, whistle.Closed, "", c.Info.Version); err == nil {
		t.Fatal("closed without an outcome")
	}
	if err := e.svc.SetStatus(e.ctx, hl, info.ID, whistle.Closed, "substantiated", c.Info.Version-1); !errors.Is(err, whistle.ErrStale) {
		t.Fatalf("stale version: %v", err)
	}
	cur := e.onlyCase(e.lars)
	if err := e.svc.SetStatus(e.ctx, hl, info.ID, whistle.Closed, "substantiated", cur.Version); err != nil {
		t.Fatal(err)
	}
	done := e.onlyCase(e.karin)
	if done.Status != whistle.Closed || done.FeedbackOn != "2026-12-02" || done.ClosedOn != "2026-12-02" || done.DeleteOn != "2027-12-02" {
		t.Fatalf("closed case %+v", done)
	}
	if _, err := e.svc.ReporterReply(e.ctx, e.company.ID, env, "one more", nil); !errors.Is(err, whistle.ErrState) {
		t.Fatalf("reply to a closed case: %v", err)
	}
	stats, err := e.svc.Stats(e.ctx, e.karin)
	if err != nil || len(stats) != 1 || stats[0].Total != 1 || stats[0].ByStatus[whistle.Closed] != 1 || stats[0].MedianDaysToAck != 2 || stats[0].AckOnTime != 1 {
		t.Fatalf("stats %v %+v", err, stats[0])
	}
}

// TestServerCannotRead: with a copy of everything the server stores (every
// row of the database, every file) and the master key, the report stays
// closed; a handler's password or the receipt opens it.
func TestServerCannotRead(t *testing.T) {
	e := newEnv(t)
	r := e.submit("correct horse")
	h := e.handler(e.karin)
	id := e.onlyCase(e.karin).ID
	if err := e.svc.Reply(e.ctx, h, id, "Reply mentioning "+secret, []whistle.Upload{{Name: "x.txt", Data: []byte("file " + secret)}}, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Note(e.ctx, h, id, "note "+secret); err != nil {
		t.Fatal(err)
	}
	// 1. No table holds the text, in clear or under the company's data key.
	dump := dumpAll(t, e.kit.DB)
	if strings.Contains(dump, secret) || strings.Contains(dump, "Rita") || strings.Contains(dump, strings.ReplaceAll(r.Code, " ", "")) {
		t.Fatal("the database holds the report, the reporter's name or the receipt in clear")
	}
	// 2. The files, even opened with the company's data key (what the
	// master key gives), are age ciphertext.
	var blobs int
	err := e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(e.ctx, `SELECT id, blob_key FROM whistle_attachments WHERE tenant_id = $1`, e.company.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var aid string
			var key []byte
			if err := rows.Scan(&aid, &key); err != nil {
				return err
			}
			b, err := e.kit.Blobs.ReadAll(e.ctx, e.company.ID, "whistle-"+aid, key)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(secret)) || !bytes.HasPrefix(b, []byte("age-encryption.org/v1")) {
				return fmt.Errorf("file %s is not sealed to the report", aid)
			}
			blobs++
		}
		return rows.Err()
	})
	if err != nil || blobs != 2 {
		t.Fatalf("files: %v (%d)", err, blobs)
	}
	// 3. A server built from the same database and master key, without a
	// handler's password or the receipt, opens nothing.
	fresh := whistle.NewService(e.kit.DB, whistle.Options{Audit: e.kit.Audit, Blobs: e.kit.Blobs, Queue: e.kit.Queue, I18n: e.kit.I18n, Master: e.kit.Master})
	if _, _, err := fresh.Handler(e.ctx, e.karin, "session-"+e.karin.UserID, ""); !errors.Is(err, whistle.ErrLocked) {
		t.Fatalf("no envelope: %v", err)
	}
	if _, err := fresh.OpenByReceipt(e.ctx, e.company.ID, r.Code, ""); !errors.Is(err, whistle.ErrNotRecognised) {
		t.Fatalf("receipt without its passphrase: %v", err)
	}
	if _, err := fresh.Unlock(e.ctx, e.karin, "s", "not the password"); !errors.Is(err, whistle.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	// Every sealed value in the database refuses every key the master key derives.
	derived := [][]byte{e.kit.Master.DeriveKey("whistle-receipt-pepper"), e.kit.Master.DeriveKey("whistle-receipt-lookup"), e.kit.Master.DeriveKey("whistle-session")}
	for _, sealed := range sealedValues(t, e) {
		for _, k := range derived {
			var key [32]byte
			copy(key[:], k)
			for _, b := range []vault.Binding{{Company: e.company.ID, Report: id, Purpose: "report-key", Item: "receipt"}, {Company: e.company.ID, Purpose: "handler-password", Item: e.karin.UserID}} {
				if _, err := vault.OpenWithKey(&key, b, sealed); err == nil {
					t.Fatal("a key derived from the master key opens a sealed value")
				}
			}
		}
	}
	// 4. The receipt (with its passphrase) and the password do.
	env, err := fresh.OpenByReceipt(e.ctx, e.company.ID, r.Code, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := fresh.ReporterView(e.ctx, e.company.ID, env); err != nil || !strings.Contains(v.Entries[0].Content.Text, secret) {
		t.Fatalf("receipt opens: %v", err)
	}
	if _, err := fresh.Unlock(e.ctx, e.karin, "s", testkit.Password); err != nil {
		t.Fatal(err)
	}
}

func sealedValues(t testing.TB, e *env) [][]byte {
	var out [][]byte
	err := e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		for _, q := range []string{`SELECT sealed_by_receipt FROM whistle_reports`, `SELECT sealed_by_password FROM whistle_handler_keys`,
			`SELECT sealed_by_recovery FROM whistle_handler_keys`, `SELECT sealed FROM whistle_entries`, `SELECT sealed FROM whistle_case_handlers WHERE sealed IS NOT NULL`} {
			rows, err := tx.QueryContext(e.ctx, q)
			if err != nil {
				return err
			}
			for rows.Next() {
				var b []byte
				if err := rows.Scan(&b); err != nil {
					rows.Close()
					return err
				}
				out = append(out, b)
			}
			rows.Close()
		}
		return nil
	})
	if err != nil || len(out) < 6 {
		t.Fatalf("sealed values: %v %d", err, len(out))
	}
	return out
}

// dumpAll renders every value of every whistle table as text.
func dumpAll(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	err := d.ReadTx(context.Background(), db.Installation, func(tx *sql.Tx) error {
		for _, table := range []string{"whistle_settings", "whistle_channels", "whistle_channel_handlers", "whistle_handler_keys", "whistle_reports",
			"whistle_case_handlers", "whistle_entries", "whistle_attachments", "whistle_archives", "audit_records", "email_queue"} {
			rows, err := tx.Query(`SELECT * FROM ` + table)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				for _, v := range vals {
					if bs, ok := v.([]byte); ok {
						b.Write(bs)
					} else {
						fmt.Fprint(&b, v)
					}
					b.WriteByte('|')
				}
			}
			rows.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWrongReceipts: a wrong receipt and a wrong passphrase are the same
// refusal; a report admits MaxFailedUnlocks wrong passphrases a day, spent
// by a conditional update so that racing attempts cannot pass the bound.
func TestWrongReceipts(t *testing.T) {
	e := newEnv(t)
	r := e.submit("pass")
	for _, c := range []struct{ code, pass string }{{"0000 0000 0000 0000 0000 0000", "pass"}, {r.Code, "wrong"}, {"not a receipt", ""}, {r.Code[:10], "pass"}} {
		if _, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, c.code, c.pass); !errors.Is(err, whistle.ErrNotRecognised) {
			t.Fatalf("%q %q: %v", c.code, c.pass, err)
		}
	}
	// Another company does not know the receipt.
	other := e.kit.Company(t, tenant.CreateInput{Slug: "other", Name: "Other", Modules: []tenant.Module{tenant.Whistleblowing}})
	if _, err := e.svc.OpenByReceipt(e.ctx, other.ID, r.Code, "pass"); !errors.Is(err, whistle.ErrNotRecognised) {
		t.Fatalf("other company: %v", err)
	}
	// 1 wrong so far; race 30 more.
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "wrong")
		}()
	}
	wg.Wait()
	var failed int
	if err := e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(e.ctx, `SELECT failed_unlocks FROM whistle_reports WHERE tenant_id = $1`, e.company.ID).Scan(&failed)
	}); err != nil {
		t.Fatal(err)
	}
	if failed != whistle.MaxFailedUnlocks {
		t.Fatalf("failed_unlocks = %d, want exactly %d", failed, whistle.MaxFailedUnlocks)
	}
	if _, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "pass"); !errors.Is(err, whistle.ErrNotRecognised) {
		t.Fatalf("the right passphrase while throttled: %v", err)
	}
	e.clock.Add(24 * time.Hour)
	if _, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "pass"); err != nil {
		t.Fatalf("the next day: %v", err)
	}
}

// TestAttachmentLimitRace: racing replies cannot pass MaxAttachments.
func TestAttachmentLimitRace(t *testing.T) {
	e := newEnv(t)
	r := e.submit("") // one file
	env, err := e.svc.OpenByReceipt(e.ctx, e.company.ID, r.Code, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			files := []whistle.Upload{{Name: "a.txt", Data: []byte(fmt.Sprint("a", i))}, {Name: "b.txt", Data: []byte("b")}}
			if _, err := e.svc.ReporterReply(e.ctx, e.company.ID, env, "more", files); err == nil {
				ok.Add(1)
			} else if !errors.Is(err, whistle.ErrTooManyFiles) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n, rows int
	_ = e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		_ = tx.QueryRowContext(e.ctx, `SELECT attachments FROM whistle_reports WHERE tenant_id = $1`, e.company.ID).Scan(&n)
		return tx.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM whistle_attachments WHERE tenant_id = $1`, e.company.ID).Scan(&rows)
	})
	if ok.Load() != 9 || n != 19 || rows != 19 {
		t.Fatalf("%d replies passed, counter %d, rows %d; want 9, 19, 19", ok.Load(), n, rows)
	}
	// The refused replies' files were removed from the store.
	files := countFiles(t, e)
	if files != 19 {
		t.Fatalf("%d files stored, want 19", files)
	}
}

func countFiles(t testing.TB, e *env) int {
	t.Helper()
	n := 0
	err := e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(e.ctx, `SELECT id, blob_key FROM whistle_attachments WHERE tenant_id = $1`, e.company.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var k []byte
			if err := rows.Scan(&id, &k); err != nil {
				return err
			}
			if _, err := e.kit.Blobs.ReadAll(e.ctx, e.company.ID, "whistle-"+id, k); err == nil {
				n++
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExcludedHandler cannot see or open the case, and the last handler
// with a copy cannot be excluded.
func TestExcludedHandler(t *testing.T) {
	e := newEnv(t)
	e.submit("")
	id := e.onlyCase(e.karin).ID
	hk := e.handler(e.karin)
	if err := e.svc.Exclude(e.ctx, hk, id, e.lars.UserID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := e.svc.Cases(e.ctx, e.lars, whistle.CaseFilter{Status: "all"}); len(cs) != 0 {
		t.Fatal("the excluded handler still lists the case")
	}
	hl := e.handler(e.lars)
	if _, err := e.svc.Case(e.ctx, hl, id); !errors.Is(err, whistle.ErrNotFound) {
		t.Fatalf("excluded handler opens: %v", err)
	}
	if err := e.svc.Assign(e.ctx, hk, id, e.lars.UserID); err == nil {
		t.Fatal("an excluded handler was assigned again")
	}
	if err := e.svc.Exclude(e.ctx, hk, id, e.karin.UserID); err == nil {
		t.Fatal("the last handler excluded themselves")
	}
	// Opening the case does not give the excluded handler a copy back.
	if _, err := e.svc.Case(e.ctx, hk, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Case(e.ctx, hl, id); !errors.Is(err, whistle.ErrNotFound) {
		t.Fatalf("after sharing: %v", err)
	}
}

// TestLateEnrolment: a handler who enrols after a report came gets a copy
// when a colleague opens the case.
func TestLateEnrolment(t *testing.T) {
	e := newEnv(t)
	mia := e.kit.Actor(t, e.company.ID, "mia", access.CaseHandler)
	ch, _ := e.svc.Channel(e.ctx, e.admin, e.channel)
	ch.Handlers = append(ch.Handlers, mia.UserID)
	if _, err := e.svc.SaveChannel(e.ctx, e.admin, *ch); err != nil {
		t.Fatal(err)
	}
	e.submit("")
	id := e.onlyCase(e.karin).ID
	if _, err := e.svc.Enrol(e.ctx, mia, testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	hm := e.handler(mia)
	if _, err := e.svc.Case(e.ctx, hm, id); !errors.Is(err, whistle.ErrNoCopy) {
		t.Fatalf("before sharing: %v", err)
	}
	if _, err := e.svc.Case(e.ctx, e.handler(e.karin), id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Case(e.ctx, hm, id); err != nil {
		t.Fatalf("after sharing: %v", err)
	}
}

// TestKeyFollowsPassword: a password change seals the case key under the
// new password; after a reset the recovery key or the escrow's shares
// bring it back.
func TestKeyFollowsPassword(t *testing.T) {
	e := newEnv(t)
	e.submit("")
	id := e.onlyCase(e.karin).ID
	const next = "a-Different-passw0rd-for-Her"
	if err := e.kit.Accounts.ChangePassword(e.ctx, e.karin, testkit.Password, next, account.Client{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Unlock(e.ctx, e.karin, "s", testkit.Password); !errors.Is(err, whistle.ErrWrongPassword) {
		t.Fatalf("old password: %v", err)
	}
	env, err := e.svc.Unlock(e.ctx, e.karin, "s", next)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := e.svc.Handler(e.ctx, e.karin, "s", env)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Handler(e.ctx, e.karin, "another session", env); !errors.Is(err, whistle.ErrLocked) {
		t.Fatalf("the envelope opened in another session: %v", err)
	}
	if _, _, err := e.svc.Handler(e.ctx, e.lars, "s", env); !errors.Is(err, whistle.ErrLocked) {
		t.Fatalf("the envelope opened for another user: %v", err)
	}
	if _, err := e.svc.Case(e.ctx, h, id); err != nil {
		t.Fatal(err)
	}
	// Escrow 3 shares, 2 needed.
	if _, err := e.svc.SetUpEscrow(e.ctx, e.karin, 3, 2); !errors.Is(err, whistle.ErrForbidden) {
		t.Fatalf("a case handler set up the escrow: %v", err)
	}
	shares, err := e.svc.SetUpEscrow(e.ctx, e.admin, 3, 2)
	if err != nil || len(shares) != 3 {
		t.Fatalf("escrow: %v", err)
	}
	// Karin's key is escrowed when she next unlocks.
	if _, err := e.svc.Unlock(e.ctx, e.karin, "s", next); err != nil {
		t.Fatal(err)
	}
	// Lars's key is escrowed when he next unlocks.
	e.handler(e.lars)
	ks, _ := e.svc.KeyStatus(e.ctx, e.lars)
	if !ks.Escrowed {
		t.Fatal("Lars's key was not escrowed at unlock")
	}
	// Karin forgets her password: a recovery with one share fails, two succeed.
	const third = "yet-Another-passw0rd-99"
	if _, _, err := e.svc.RecoverWithShares(e.ctx, e.karin, "s2", shares[:1], third); !errors.Is(err, whistle.ErrWrongPassword) {
		t.Fatalf("one share: %v", err)
	}
	rec, env2, err := e.svc.RecoverWithShares(e.ctx, e.karin, "s2", []string{shares[2], shares[0]}, third)
	if err != nil || rec == "" {
		t.Fatalf("two shares: %v", err)
	}
	if h, _, err = e.svc.Handler(e.ctx, e.karin, "s2", env2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Case(e.ctx, h, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Unlock(e.ctx, e.karin, "s3", third); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	// The recovery key returned works, and resets the password seal again.
	if _, err := e.svc.Recover(e.ctx, e.karin, "s4", "AAAA-BBBB", "x-Fourth-passw0rd"); !errors.Is(err, whistle.ErrWrongPassword) {
		t.Fatalf("wrong recovery key: %v", err)
	}
	if _, err := e.svc.Recover(e.ctx, e.karin, "s4", strings.ToLower(rec), "x-Fourth-passw0rd"); err != nil {
		t.Fatalf("recovery key: %v", err)
	}
	if _, err := e.svc.Unlock(e.ctx, e.karin, "s5", "x-Fourth-passw0rd"); err != nil {
		t.Fatal(err)
	}
}

// TestRemindersAndRetention: notices go once, carry no content, and a
// closed case is deleted (rows, keys, files) after the channel's period
// unless under legal hold.
func TestRemindersAndRetention(t *testing.T) {
	e := newEnv(t)
	e.submit("")
	e.submit("")
	cs, _ := e.svc.Cases(e.ctx, e.karin, whistle.CaseFilter{Status: "all"})
	if n, err := e.svc.Remind(e.ctx); err != nil || n != 0 {
		t.Fatalf("same day: %d %v (a new case is announced the next day)", n, err)
	}
	e.clock.Add(24 * time.Hour)
	if n, err := e.svc.Remind(e.ctx); err != nil || n != 2 {
		t.Fatalf("next day: %d %v", n, err)
	}
	e.clock.Add(5 * 24 * time.Hour) // 2026-12-06, ack due 12-07
	var wg sync.WaitGroup
	var sent atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.svc.Remind(e.ctx)
			if err != nil {
				t.Error(err)
			}
			sent.Add(int32(n))
		}()
	}
	wg.Wait()
	if sent.Load() != 2 {
		t.Fatalf("racing reminder runs sent %d, want 2", sent.Load())
	}
	mail := dumpTable(t, e, "email_queue")
	if strings.Contains(mail, secret) || strings.Contains(mail, "Rita") || !strings.Contains(mail, "/cases/"+cs[0].ID) {
		t.Fatal("the reminders carry content or lack the link")
	}
	// Close both; hold one.
	h := e.handler(e.karin)
	for i, c := range cs {
		if err := e.svc.Acknowledge(e.ctx, h, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		cur, _ := e.svc.Case(e.ctx, h, c.ID)
		if err := e.svc.SetStatus(e.ctx, h, c.ID, whistle.Closed, "no_action", cur.Info.Version); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := e.svc.SetLegalHold(e.ctx, h, c.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.clock.Add(364 * 24 * time.Hour)
	if n, _ := e.svc.Sweep(e.ctx); n != 0 {
		t.Fatal("deleted before the retention ran out")
	}
	e.clock.Add(24 * time.Hour)
	if n, err := e.svc.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	left, _ := e.svc.Cases(e.ctx, e.karin, whistle.CaseFilter{Status: "all"})
	if len(left) != 1 || left[0].ID != cs[1].ID {
		t.Fatalf("left: %+v", left)
	}
	var rows int
	_ = e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(e.ctx, `SELECT (SELECT COUNT(*) FROM whistle_entries WHERE report_id = $1) + (SELECT COUNT(*) FROM whistle_case_handlers WHERE report_id = $1)
			+ (SELECT COUNT(*) FROM whistle_attachments WHERE report_id = $1)`, cs[0].ID).Scan(&rows)
	})
	if rows != 0 {
		t.Fatalf("%d rows of the deleted case remain", rows)
	}
	if n := countFiles(t, e); n != 1 {
		t.Fatalf("%d files remain, want the held case's 1", n)
	}
}

func dumpTable(t testing.TB, e *env, table string) string {
	t.Helper()
	var b strings.Builder
	_ = e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(e.ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = rows.Scan(ptrs...)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					b.Write(bs)
				} else {
					fmt.Fprint(&b, v)
				}
			}
		}
		return nil
	})
	return b.String()
}

// TestRacingHandlers: of racing acknowledgements exactly one wins (one
// acknowledgement message), racing status changes from one version let
// one through, and racing messages each get their own number.
func TestRacingHandlers(t *testing.T) {
	e := newEnv(t)
	e.submit("")
	id := e.onlyCase(e.karin).ID
	hs := []*whistle.Handler{e.handler(e.karin), e.handler(e.lars)}
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.Acknowledge(e.ctx, hs[i%2], id, ""); err == nil {
				won.Add(1)
			} else if !errors.Is(err, whistle.ErrState) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d acknowledgements won", won.Load())
	}
	version := e.onlyCase(e.karin).Version
	won.Store(0)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.SetStatus(e.ctx, hs[i%2], id, whistle.Investigating, "", version); err == nil {
				won.Add(1)
			} else if !errors.Is(err, whistle.ErrStale) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d status changes from one version won", won.Load())
	}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.Reply(e.ctx, hs[i%2], id, fmt.Sprint("message ", i), nil, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, err := e.svc.Case(e.ctx, hs[0], id)
	if err != nil {
		t.Fatal(err)
	}
	// The report, one acknowledgement, ten messages, numbered 1..12.
	if len(c.Entries) != 12 || c.Info.Entries != 12 {
		t.Fatalf("%d entries, counter %d", len(c.Entries), c.Info.Entries)
	}
	for i, en := range c.Entries {
		if en.Seq != i+1 {
			t.Fatalf("entry %d has number %d", i, en.Seq)
		}
	}
}

// TestChannelRoutesOnlyToHandlers: a channel refuses a handler who does
// not hold cases.handle, and slugs the reporter's own pages use.
func TestChannelRoutesOnlyToHandlers(t *testing.T) {
	e := newEnv(t)
	rec := e.kit.Actor(t, e.company.ID, "rita", access.Recruiter)
	svc := whistle.NewService(e.kit.DB, whistle.Options{Audit: e.kit.Audit, Blobs: e.kit.Blobs, Queue: e.kit.Queue, I18n: e.kit.I18n, Master: e.kit.Master,
		MayHandle: func(_ context.Context, _, userID string) (bool, error) { return userID != rec.UserID, nil }})
	if _, err := svc.Channels(e.ctx, e.karin); !errors.Is(err, whistle.ErrForbidden) {
		t.Fatalf("a case handler reads the channels' configuration: %v", err)
	}
	// The case list's filter: her channel only, by name.
	other := e.kit.Actor(t, e.company.ID, "olga", access.CaseHandler)
	if hc, err := svc.HandlerChannels(e.ctx, e.karin); err != nil || len(hc) != 1 || hc[0].Name != "Group channel" {
		t.Fatalf("Karin's channels: %v %+v", err, hc)
	}
	if hc, err := svc.HandlerChannels(e.ctx, other); err != nil || len(hc) != 0 {
		t.Fatalf("a handler of no channel: %v %+v", err, hc)
	}
	ch, err := svc.Channel(e.ctx, e.admin, e.channel)
	if err != nil {
		t.Fatal(err)
	}
	ch.Handlers = append(ch.Handlers, rec.UserID)
	if _, err := svc.SaveChannel(e.ctx, e.admin, *ch); err == nil || !strings.Contains(err.Error(), "handlers") {
		t.Fatalf("a recruiter as handler: %v", err)
	}
	for _, slug := range []string{"case", "follow-up", "Bad Slug", "-x"} {
		c := *ch
		c.ID, c.Slug, c.Handlers = "", slug, []string{e.karin.UserID}
		if _, err := svc.SaveChannel(e.ctx, e.admin, c); err == nil {
			t.Errorf("slug %q accepted", slug)
		}
	}
}

// TestRacingExclusions: two handlers excluding each other at once leave
// one of them with the case: never a case no handler can open.
func TestRacingExclusions(t *testing.T) {
	e := newEnv(t)
	hk, hl := e.handler(e.karin), e.handler(e.lars)
	for range 5 {
		e.submit("")
	}
	cs, _ := e.svc.Cases(e.ctx, e.karin, whistle.CaseFilter{Status: "all"})
	for _, c := range cs {
		var wg sync.WaitGroup
		var ok atomic.Int32
		for _, pair := range [][2]any{{hk, e.lars.UserID}, {hl, e.karin.UserID}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.svc.Exclude(e.ctx, pair[0].(*whistle.Handler), c.ID, pair[1].(string)); err == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("case %s: %d exclusions passed, want exactly one", c.ID, ok.Load())
		}
		opened := 0
		for _, h := range []*whistle.Handler{hk, hl} {
			if _, err := e.svc.Case(e.ctx, h, c.ID); err == nil {
				opened++
			}
		}
		if opened != 1 {
			t.Fatalf("case %s opens for %d handlers, want 1", c.ID, opened)
		}
	}
	// The excluded handler was told, without content.
	mail := dumpTable(t, e, "email_queue")
	if !strings.Contains(mail, "excluded") && !strings.Contains(mail, "Excluded") {
		t.Fatal("no email to the excluded handler")
	}
	if strings.Contains(mail, secret) {
		t.Fatal("the exclusion email carries content")
	}
}

// TestArchiveBundle: closing a case with an archive recipient makes a
// bundle only the recipient opens, with a signed manifest; the sweep
// removes it with the case.
func TestArchiveBundle(t *testing.T) {
	e := newEnv(t)
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetArchiveRecipient(e.ctx, e.karin, ident.Recipient().String()); !errors.Is(err, whistle.ErrForbidden) {
		t.Fatalf("a case handler set the archive recipient: %v", err)
	}
	if err := e.svc.SetArchiveRecipient(e.ctx, e.admin, ident.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	e.submit("")
	h := e.handler(e.karin)
	id := e.onlyCase(e.karin).ID
	if err := e.svc.Acknowledge(e.ctx, h, id, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(e.ctx, h, id, whistle.Closed, "no_action", e.onlyCase(e.karin).Version); err != nil {
		t.Fatal(err)
	}
	// Archived again (a second bundle replaces the first).
	if err := e.svc.Archive(e.ctx, h, id); err != nil {
		t.Fatal(err)
	}
	info, r, err := e.svc.ArchiveBundle(e.ctx, e.karin, id)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := io.ReadAll(r)
	r.Close()
	if sum := sha256.Sum256(ct); hex.EncodeToString(sum[:]) != info.SHA256 || bytes.Contains(ct, []byte(secret)) {
		t.Fatal("the bundle's digest does not match, or it holds the report in clear")
	}
	plain, err := age.Decrypt(bytes.NewReader(ct), ident)
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(plain)
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		parts[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(parts["manifest.sig"])))
	if !ed25519.Verify(e.svc.ArchiveSigningKey(), parts["manifest.json"], sig) || !bytes.Contains(parts["case.json"], []byte(secret)) {
		t.Fatal("the manifest's signature does not verify, or case.json lacks the report")
	}
	before := len(blobFiles(t, e))
	e.clock.Add(366 * 24 * time.Hour)
	if n, err := e.svc.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if after := len(blobFiles(t, e)); before != 2 || after != 0 {
		t.Fatalf("files of the company before the sweep %d, after %d (want the attachment and one bundle, then none)", before, after)
	}
}

// blobFiles lists the company's stored objects in the kit's file store.
func blobFiles(t testing.TB, e *env) []string {
	var out []string
	_ = filepath.WalkDir(e.kit.FilesDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, e.company.ID) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestSubmissionRefusals: what a reporter's form may not carry.
func TestSubmissionRefusals(t *testing.T) {
	e := newEnv(t)
	base := whistle.Submission{Language: "en", Category: "c1", Answers: map[string]string{"q2": "y"}, Text: "x"}
	for name, c := range map[string]struct {
		mod   func(*whistle.Submission)
		field string
	}{
		"text too long": {func(s *whistle.Submission) { s.Text = strings.Repeat("a", whistle.MaxTextBytes+1) }, "text"},
		"invalid UTF-8": {func(s *whistle.Submission) { s.Text = "a\xffb" }, "text"},
		"no text":       {func(s *whistle.Submission) { s.Text = "  " }, "text"},
		"category":      {func(s *whistle.Submission) { s.Category = "nope" }, "category"},
		"required":      {func(s *whistle.Submission) { s.Answers = nil }, "q_q2"},
		"choice":        {func(s *whistle.Submission) { s.Answers = map[string]string{"q2": "maybe"} }, "q_q2"},
		"date":          {func(s *whistle.Submission) { s.Answers = map[string]string{"q2": "y", "q1": "2026-13-45"} }, "q_q1"},
		"file type": {func(s *whistle.Submission) {
			s.Files = []whistle.Upload{{Name: "a.exe", Data: []byte("MZ\x90\x00binary\x00\x01")}}
		}, "files"},
		"too many files": {func(s *whistle.Submission) { s.Files = make([]whistle.Upload, whistle.MaxAttachments+1) }, "files"},
	} {
		sub := base
		c.mod(&sub)
		_, err := e.svc.Submit(e.ctx, e.company.ID, e.channel, sub)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want a refusal of %s", name, err, c.field)
		}
	}
	if cs, _ := e.svc.Cases(e.ctx, e.karin, whistle.CaseFilter{Status: "all"}); len(cs) != 0 || len(blobFiles(t, e)) != 0 {
		t.Fatal("a refused submission left a case or a file")
	}
}

// TestChannelLimitRace: racing creations cannot pass MaxChannels.
func TestChannelLimitRace(t *testing.T) {
	e := newEnv(t) // one channel
	mk := func(i int) error {
		_, err := e.svc.SaveChannel(e.ctx, e.admin, whistle.Channel{Slug: fmt.Sprintf("ch-%d", i), Name: "Channel", DefaultLanguage: "en",
			Languages: []string{"en"}, RetentionDays: 365, Handlers: []string{e.karin.UserID}})
		return err
	}
	for i := range whistle.MaxChannels - 3 {
		if err := mk(i); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if mk(100+i) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	var n int
	_ = e.kit.DB.ReadTx(e.ctx, e.company.ID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM whistle_channels WHERE tenant_id = $1`, e.company.ID).Scan(&n)
	})
	if ok.Load() != 2 || n != whistle.MaxChannels {
		t.Fatalf("%d racing creations passed, %d channels; want 2 and %d", ok.Load(), n, whistle.MaxChannels)
	}
}
