package whistle

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// Upload is a file a reporter or handler attaches, read whole (and
// bounded) by the caller.
type Upload struct {
	Name string
	Data []byte
}

// Submission is what a reporter sends.
type Submission struct {
	Language string
	Category string
	// Answers maps a question's key to its answer: the text, the choice's
	// key, or the day (YYYY-MM-DD).
	Answers map[string]string
	Text    string
	// Name and Contact: only when the channel allows identified reports
	// and the reporter chose to give them.
	Name, Contact string
	Passphrase    string
	Meeting       bool
	Files         []Upload
}

// FileNote tells the reporter what could not be removed from a file.
type FileNote struct {
	Name string
	Left []filetype.Leftover
}

// Receipt is what the reporter gets back, shown once.
type Receipt struct {
	Code  string
	Files []FileNote
	// Deadlines of the new case.
	Deadlines Deadlines
}

// Answer is a question and its answer, as the reporter saw it.
type Answer struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Content is the sealed body of an entry.
type Content struct {
	// Report: the category's label, the answers, the identity if given.
	Category string   `json:"category,omitempty"`
	Answers  []Answer `json:"answers,omitempty"`
	Name     string   `json:"name,omitempty"`
	Contact  string   `json:"contact,omitempty"`
	Meeting  bool     `json:"meeting,omitempty"`
	// Text of the report, message or note.
	Text string `json:"text"`
	// Redaction: the entry it redacts and how many places were masked.
	Source int `json:"source,omitempty"`
	Masked int `json:"masked,omitempty"`
	// Feedback: a handler's message that is the directive's feedback.
	Feedback bool `json:"feedback,omitempty"`
}

// Entry kinds.
const (
	KindReport    = "report"
	KindMessage   = "message"
	KindNote      = "note"
	KindRedaction = "redaction"
)

// entryBinding binds an entry to its number, kind and author too: a note
// edited into a message in the database (so that the reporter would read
// it), or a message moved to another author, no longer opens.
func entryBinding(tenantID, reportID string, seq int, kind, authorKind, authorID string) vault.Binding {
	return vault.Binding{Company: tenantID, Report: reportID, Purpose: "entry", Item: strconv.Itoa(seq) + "/" + kind + "/" + authorKind + "/" + authorID}
}

func attachmentBinding(tenantID, reportID, attID string) vault.Binding {
	return vault.Binding{Company: tenantID, Report: reportID, Purpose: "attachment", Item: attID}
}

func reportKeyBinding(tenantID, reportID, holder string) vault.Binding {
	return vault.Binding{Company: tenantID, Report: reportID, Purpose: "report-key", Item: holder}
}

func checkText(field, s string, required bool) error {
	if !utf8.ValidString(s) {
		return fault.Field(field, "whistle.error.utf8")
	}
	if len(s) > MaxTextBytes {
		return fault.Field(field, "whistle.error.too_long")
	}
	if required && strings.TrimSpace(s) == "" {
		return fault.Field(field, "whistle.error.required")
	}
	return nil
}

// check validates sub against the channel and returns the content to seal.
func (sub *Submission) check(c *Channel) (*Content, error) {
	inv := fault.Invalid{Fields: map[string]string{}}
	if !slices.Contains(c.Languages, sub.Language) {
		sub.Language = c.DefaultLanguage
	}
	lang := sub.Language
	content := &Content{Text: strings.TrimSpace(sub.Text), Meeting: sub.Meeting}
	if err := checkText("text", sub.Text, true); err != nil {
		inv.Fields["text"] = err.(*fault.Invalid).Fields["text"]
	}
	if len(c.Categories) > 0 {
		i := slices.IndexFunc(c.Categories, func(ch Choice) bool { return ch.Key == sub.Category })
		if i < 0 {
			inv.Fields["category"] = "whistle.error.category"
		} else {
			content.Category = Label(c.Categories[i].Labels, lang, c.DefaultLanguage)
		}
	}
	for _, q := range c.Questions {
		if q.Kind == QuestionAttachments {
			if q.Required && len(sub.Files) == 0 {
				inv.Fields["q_"+q.Key] = "whistle.error.required"
			}
			continue
		}
		v := strings.TrimSpace(sub.Answers[q.Key])
		f := "q_" + q.Key
		switch {
		case v == "":
			if q.Required {
				inv.Fields[f] = "whistle.error.required"
			}
			continue
		case !utf8.ValidString(v) || len(v) > 8000:
			inv.Fields[f] = "whistle.error.too_long"
			continue
		}
		shown := v
		switch q.Kind {
		case QuestionChoice:
			i := slices.IndexFunc(q.Choices, func(ch Choice) bool { return ch.Key == v })
			if i < 0 {
				inv.Fields[f] = "whistle.error.choice"
				continue
			}
			shown = Label(q.Choices[i].Labels, lang, c.DefaultLanguage)
		case QuestionDate:
			if ParseDay(v).IsZero() {
				inv.Fields[f] = "whistle.error.date"
				continue
			}
		}
		content.Answers = append(content.Answers, Answer{Key: q.Key, Label: Label(q.Labels, lang, c.DefaultLanguage), Kind: q.Kind, Value: shown})
	}
	name, contact := strings.TrimSpace(sub.Name), strings.TrimSpace(sub.Contact)
	if name != "" || contact != "" {
		switch {
		case !c.AllowIdentified:
			inv.Fields["name"] = "whistle.error.anonymous_only"
		case !utf8.ValidString(name) || !utf8.ValidString(contact) || len(name) > 200 || len(contact) > 300:
			inv.Fields["name"] = "whistle.error.too_long"
		}
		content.Name, content.Contact = name, contact
	}
	if !utf8.ValidString(sub.Passphrase) || len(sub.Passphrase) > 200 {
		inv.Fields["passphrase"] = "whistle.error.passphrase"
	}
	if len(sub.Files) > MaxAttachments {
		inv.Fields["files"] = "whistle.error.too_many_files"
	}
	if len(inv.Fields) > 0 {
		return nil, &inv
	}
	return content, nil
}

// Accepted file types of attachments.
var acceptedTypes = []filetype.Type{filetype.PDF, filetype.DOCX, filetype.ODT, filetype.TXT, filetype.JPEG, filetype.PNG}

// stored is an attachment sealed and in the file store.
type stored struct {
	id   string
	key  []byte
	size int64
	meta []byte // sealed attachmentMeta
}

type attachmentMeta struct {
	Name string   `json:"name"`
	Type string   `json:"type"`
	Left []string `json:"left,omitempty"`
}

// storeFiles cleans, seals and stores files for report; the caller removes
// them (dropFiles) when its transaction fails.
func (s *Service) storeFiles(ctx context.Context, tenantID, reportID, recipient string, files []Upload) ([]stored, []FileNote, error) {
	var out []stored
	var notes []FileNote
	for i, f := range files {
		field := "files"
		if len(f.Data) > MaxAttachmentBytes {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, fault.Field(field, "whistle.error.file_too_large")
		}
		t, err := filetype.Detect(f.Data)
		if err != nil || !slices.Contains(acceptedTypes, t) {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, fault.Field(field, "whistle.error.file_type")
		}
		clean, left, err := filetype.Clean(t, f.Data)
		if err != nil {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, fault.Field(field, "whistle.error.file_type")
		}
		name := filetype.CleanName(f.Name, t)
		if name == "" {
			name = fmt.Sprintf("attachment-%d%s", i+1, t.Extension())
		}
		m := attachmentMeta{Name: name, Type: string(t)}
		for _, l := range left {
			m.Left = append(m.Left, string(l))
		}
		notes = append(notes, FileNote{Name: name, Left: left})
		attID := randomID()
		sealedBody, err := vault.SealBytes(recipient, attachmentBinding(tenantID, reportID, attID), clean)
		if err != nil {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, err
		}
		mb, _ := json.Marshal(m)
		sealedMeta, err := vault.SealBytes(recipient, vault.Binding{Company: tenantID, Report: reportID, Purpose: "attachment-meta", Item: attID}, mb)
		if err != nil {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, err
		}
		obj, err := s.o.Blobs.Put(ctx, tenantID, "whistle-"+attID, bytes.NewReader(sealedBody), 0)
		if err != nil {
			s.dropFiles(ctx, tenantID, out)
			return nil, nil, fmt.Errorf("store attachment: %w", err)
		}
		out = append(out, stored{id: attID, key: obj.Key, size: int64(len(clean)), meta: sealedMeta})
	}
	return out, notes, nil
}

func (s *Service) dropFiles(ctx context.Context, tenantID string, files []stored) {
	for _, f := range files {
		if err := s.o.Blobs.Delete(context.WithoutCancel(ctx), tenantID, "whistle-"+f.id); err != nil {
			s.o.Logger.Error("remove attachment", "err", err)
		}
	}
}

// Submit files a report on channel of company tenantID. It returns the
// receipt, shown once: the server keeps only a keyed hash of it.
func (s *Service) Submit(ctx context.Context, tenantID, channelID string, sub Submission) (*Receipt, error) {
	var c *Channel
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var err error
		c, err = scanChannel(tx.QueryRowContext(ctx, `SELECT `+channelCols+` FROM whistle_channels WHERE tenant_id = $1 AND id = $2`, tenantID, channelID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !c.Active {
		return nil, ErrUnavailable
	}
	content, err := sub.check(c)
	if err != nil {
		return nil, err
	}
	reportKey, err := vault.NewIdentity()
	if err != nil {
		return nil, err
	}
	code, err := vault.NewReceipt()
	if err != nil {
		return nil, err
	}
	norm, _ := vault.NormalizeReceipt(code)
	reportID := randomID()
	salt := vault.NewSalt()
	rk, err := vault.ReceiptKey(ctx, s.pepper, tenantID, norm, sub.Passphrase, salt)
	if err != nil {
		return nil, err
	}
	sealedByReceipt, err := vault.SealWithKey(rk, reportKeyBinding(tenantID, reportID, "receipt"), []byte(reportKey.String()))
	if err != nil {
		return nil, err
	}
	files, notes, err := s.storeFiles(ctx, tenantID, reportID, reportKey.Recipient(), sub.Files)
	if err != nil {
		return nil, err
	}
	today := Day(s.now())
	dl := DeadlinesOf(today, "")
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		keys, err := s.routeKeys(ctx, tx, tenantID, c.ID)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return ErrUnavailable
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_reports (tenant_id, id, channel_id, public_key, receipt_lookup, receipt_salt,
			sealed_by_receipt, language, identified, meeting_requested, status, received_on, ack_due, feedback_due, entries, attachments,
			activity_on, reporter_activity_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15, $12, $12)`,
			tenantID, reportID, c.ID, reportKey.Recipient(), vault.ReceiptLookup(s.lookup, tenantID, norm), salt, sealedByReceipt,
			sub.Language, content.Name != "" || content.Contact != "", sub.Meeting, Received, today, dl.AckDue, dl.FeedbackDue, len(files)); err != nil {
			return fmt.Errorf("insert report: %w", err)
		}
		for u, pub := range keys {
			sealed, err := vault.SealIdentity(pub, reportKeyBinding(tenantID, reportID, u), reportKey)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_case_handlers (tenant_id, report_id, user_id, sealed) VALUES ($1, $2, $3, $4)`,
				tenantID, reportID, u, sealed); err != nil {
				return fmt.Errorf("case handler: %w", err)
			}
		}
		_, err = s.appendEntry(ctx, tx, tenantID, reportID, reportKey.Recipient(), KindReport, "reporter", "", content, files)
		return err
	})
	if err != nil {
		s.dropFiles(ctx, tenantID, files)
		return nil, err
	}
	return &Receipt{Code: code, Files: notes, Deadlines: dl}, nil
}

// routeKeys returns the public keys of the channel's handlers who have one.
func (s *Service) routeKeys(ctx context.Context, tx *sql.Tx, tenantID, channelID string) (map[string]string, error) {
	users, err := channelHandlers(ctx, tx, tenantID, channelID)
	if err != nil {
		return nil, err
	}
	return s.handlerPublicKeys(ctx, tx, tenantID, users)
}

// appendEntry adds an entry (and its stored files) to a report, numbered
// by the report's counter, spent by a conditional update in tx.
func (s *Service) appendEntry(ctx context.Context, tx *sql.Tx, tenantID, reportID, recipient, kind, authorKind, authorID string, c *Content, files []stored) (int, error) {
	today := Day(s.now())
	var seq int
	set := `entries = entries + 1, activity_on = $3`
	if authorKind == "reporter" {
		set += `, reporter_activity_on = $3`
	}
	// A message goes only into a case not closed, decided by this same
	// update: a close committed meanwhile wins over it.
	where := ``
	if kind == KindMessage {
		where = ` AND status <> 'closed'`
	}
	err := tx.QueryRowContext(ctx, `UPDATE whistle_reports SET `+set+` WHERE tenant_id = $1 AND id = $2`+where+` RETURNING entries`,
		tenantID, reportID, today).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		if tx.QueryRowContext(ctx, `SELECT 1 FROM whistle_reports WHERE tenant_id = $1 AND id = $2`, tenantID, reportID).Scan(&one) == nil {
			return 0, ErrState
		}
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("entry number: %w", err)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return 0, err
	}
	sealed, err := vault.SealBytes(recipient, entryBinding(tenantID, reportID, seq, kind, authorKind, authorID), body)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_entries (tenant_id, report_id, seq, kind, author_kind, author_id, day, sealed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenantID, reportID, seq, kind, authorKind, authorID, today, sealed); err != nil {
		return 0, fmt.Errorf("insert entry: %w", err)
	}
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whistle_attachments (tenant_id, report_id, id, seq, blob_key, size, sealed_meta)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, tenantID, reportID, f.id, seq, f.key, f.size, f.meta); err != nil {
			return 0, fmt.Errorf("insert attachment: %w", err)
		}
	}
	return seq, nil
}

// spendAttachments counts n more files against the report's limit, by a
// conditional update.
func spendAttachments(ctx context.Context, tx *sql.Tx, tenantID, reportID string, n int) error {
	if n == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET attachments = attachments + $3 WHERE tenant_id = $1 AND id = $2 AND attachments + $3 <= $4`,
		tenantID, reportID, n, MaxAttachments)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return ErrTooManyFiles
	}
	return nil
}

// reporterSession is what a reporter's cookie envelope holds.
type reporterSession struct {
	Report string `json:"r"`
	Key    string `json:"k"`
}

func reporterBinding(tenantID string) vault.Binding {
	return vault.Binding{Company: tenantID, Purpose: "reporter-session"}
}

// OpenByReceipt opens the report of a receipt (and passphrase) and returns
// the envelope the reporter's cookie keeps for ReporterSession. Every
// failure is ErrNotRecognised, after the same work, whether the receipt
// exists or not; a report admits MaxFailedUnlocks wrong passphrases a day,
// each spent by a conditional update before the key is derived.
func (s *Service) OpenByReceipt(ctx context.Context, tenantID, receipt, passphrase string) (string, error) {
	norm, nerr := vault.NormalizeReceipt(receipt)
	if nerr != nil || !utf8.ValidString(passphrase) || len(passphrase) > 200 {
		s.burn(ctx, tenantID)
		return "", ErrNotRecognised
	}
	today := Day(s.now())
	var reportID string
	var salt, sealed []byte
	err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE whistle_reports SET
			failed_unlocks = (CASE WHEN failed_on = $3 THEN failed_unlocks ELSE 0 END) + 1, failed_on = $3
			WHERE tenant_id = $1 AND receipt_lookup = $2 AND (failed_on IS NULL OR failed_on <> $3 OR failed_unlocks < $4)
			RETURNING id, receipt_salt, sealed_by_receipt`,
			tenantID, vault.ReceiptLookup(s.lookup, tenantID, norm), today, MaxFailedUnlocks).Scan(&reportID, &salt, &sealed)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		s.burn(ctx, tenantID)
		return "", ErrNotRecognised
	}
	if err != nil {
		return "", err
	}
	key, err := vault.ReceiptKey(ctx, s.pepper, tenantID, norm, passphrase, salt)
	if err != nil {
		// Whatever went wrong, the answer is the one a wrong receipt gets.
		s.o.Logger.Error("receipt key", "err", err)
		return "", ErrNotRecognised
	}
	b, err := vault.OpenWithKey(key, reportKeyBinding(tenantID, reportID, "receipt"), sealed)
	if err != nil {
		return "", ErrNotRecognised
	}
	if err := s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET failed_unlocks = 0, reporter_activity_on = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, reportID, today)
		return err
	}); err != nil {
		return "", err
	}
	payload, _ := json.Marshal(reporterSession{Report: reportID, Key: string(b)})
	return vault.SealSession(s.sess, reporterBinding(tenantID), payload, s.now().Add(ReporterSession))
}

// burn does the work of a receipt check that finds nothing, so that the
// answer's time does not tell whether a receipt exists.
func (s *Service) burn(ctx context.Context, tenantID string) {
	_, _ = vault.ReceiptKey(ctx, s.pepper, tenantID, "000000000000000000000000", "", make([]byte, 16))
}

// reporter opens a reporter's envelope.
func (s *Service) reporter(tenantID, envelope string) (string, *vault.Identity, error) {
	b, err := vault.OpenSession(s.sess, reporterBinding(tenantID), envelope, s.now())
	if err != nil {
		return "", nil, ErrNotRecognised
	}
	var rs reporterSession
	if json.Unmarshal(b, &rs) != nil {
		return "", nil, ErrNotRecognised
	}
	id, err := vault.ParseIdentity(rs.Key)
	if err != nil {
		return "", nil, ErrNotRecognised
	}
	return rs.Report, id, nil
}

// RenewReporter returns the envelope renewed for another ReporterSession.
func (s *Service) RenewReporter(tenantID, envelope string) (string, error) {
	rid, id, err := s.reporter(tenantID, envelope)
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(reporterSession{Report: rid, Key: id.String()})
	return vault.SealSession(s.sess, reporterBinding(tenantID), payload, s.now().Add(ReporterSession))
}

// CaseInfo is a case's state without its content.
type CaseInfo struct {
	ID             string
	ChannelID      string
	ChannelName    string
	Language       string
	Identified     bool
	Meeting        bool
	Status         string
	Outcome        string
	ReceivedOn     string
	AcknowledgedOn string
	FeedbackOn     string
	ClosedOn       string
	DeleteOn       string
	LegalHold      bool
	Deadlines      Deadlines
	Entries        int
	ReporterSeen   int
	Version        int
}

// AckLate: the acknowledgement deadline passed without one.
func (c *CaseInfo) AckLate(today string) bool {
	return c.AcknowledgedOn == "" && c.Status != Closed && today > c.Deadlines.AckDue
}

// FeedbackLate: the feedback deadline passed without feedback.
func (c *CaseInfo) FeedbackLate(today string) bool {
	return c.FeedbackOn == "" && c.Status != Closed && today > c.Deadlines.FeedbackDue
}

const caseCols = `r.id, r.channel_id, c.name, r.language, r.identified, r.meeting_requested, r.status, r.outcome, r.received_on,
	COALESCE(r.acknowledged_on, ''), COALESCE(r.feedback_on, ''), COALESCE(r.closed_on, ''), COALESCE(r.delete_on, ''), r.legal_hold,
	r.ack_due, r.feedback_due, r.entries, r.reporter_seen, r.version`

func scanCase(r interface{ Scan(...any) error }) (*CaseInfo, error) {
	var c CaseInfo
	err := r.Scan(&c.ID, &c.ChannelID, &c.ChannelName, &c.Language, &c.Identified, &c.Meeting, &c.Status, &c.Outcome, &c.ReceivedOn,
		&c.AcknowledgedOn, &c.FeedbackOn, &c.ClosedOn, &c.DeleteOn, &c.LegalHold, &c.Deadlines.AckDue, &c.Deadlines.FeedbackDue,
		&c.Entries, &c.ReporterSeen, &c.Version)
	return &c, err
}

// EntryView is an entry opened.
type EntryView struct {
	Seq         int
	Kind        string
	AuthorKind  string
	AuthorID    string
	Day         string
	Content     Content
	Attachments []AttachmentView
}

// AttachmentView is an attachment's description.
type AttachmentView struct {
	ID   string
	Name string
	Type string
	Size int64
	Left []string
}

// ReporterCase is what the reporter sees of their case.
type ReporterCase struct {
	Info    *CaseInfo
	Entries []EntryView
	// Unread counts the handlers' messages since the reporter last looked.
	Unread int
}

// ReporterView opens the reporter's case: its status, deadlines, and the
// report and messages (never the handlers' notes or redactions). It marks
// the messages read.
func (s *Service) ReporterView(ctx context.Context, tenantID, envelope string) (*ReporterCase, error) {
	rid, key, err := s.reporter(tenantID, envelope)
	if err != nil {
		return nil, err
	}
	var out ReporterCase
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		info, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseCols+` FROM whistle_reports r JOIN whistle_channels c ON c.tenant_id = r.tenant_id AND c.id = r.channel_id
			WHERE r.tenant_id = $1 AND r.id = $2`, tenantID, rid))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotRecognised
		}
		if err != nil {
			return err
		}
		out.Info = info
		entries, err := s.openEntries(ctx, tx, tenantID, rid, key, []string{KindReport, KindMessage})
		if err != nil {
			return err
		}
		out.Entries = entries
		for _, e := range entries {
			if e.AuthorKind == "handler" && e.Seq > info.ReporterSeen {
				out.Unread++
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE whistle_reports SET reporter_seen = entries WHERE tenant_id = $1 AND id = $2`, tenantID, rid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// openEntries reads and opens a report's entries of the given kinds with its attachments.
func (s *Service) openEntries(ctx context.Context, tx *sql.Tx, tenantID, reportID string, key *vault.Identity, kinds []string) ([]EntryView, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, kind, author_kind, author_id, day, sealed FROM whistle_entries WHERE tenant_id = $1 AND report_id = $2 ORDER BY seq`, tenantID, reportID)
	if err != nil {
		return nil, fmt.Errorf("entries: %w", err)
	}
	defer rows.Close()
	var out []EntryView
	for rows.Next() {
		var e EntryView
		var sealed []byte
		if err := rows.Scan(&e.Seq, &e.Kind, &e.AuthorKind, &e.AuthorID, &e.Day, &sealed); err != nil {
			return nil, err
		}
		if !slices.Contains(kinds, e.Kind) {
			continue
		}
		b, err := vault.OpenBytes(key, entryBinding(tenantID, reportID, e.Seq, e.Kind, e.AuthorKind, e.AuthorID), sealed)
		if err != nil {
			return nil, fmt.Errorf("open entry %d: %w", e.Seq, err)
		}
		if err := json.Unmarshal(b, &e.Content); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	arows, err := tx.QueryContext(ctx, `SELECT id, seq, size, sealed_meta FROM whistle_attachments WHERE tenant_id = $1 AND report_id = $2 ORDER BY seq, id`, tenantID, reportID)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var a AttachmentView
		var seq int
		var sealed []byte
		if err := arows.Scan(&a.ID, &seq, &a.Size, &sealed); err != nil {
			return nil, err
		}
		b, err := vault.OpenBytes(key, vault.Binding{Company: tenantID, Report: reportID, Purpose: "attachment-meta", Item: a.ID}, sealed)
		if err != nil {
			return nil, fmt.Errorf("open attachment: %w", err)
		}
		var m attachmentMeta
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		a.Name, a.Type, a.Left = m.Name, m.Type, m.Left
		for i := range out {
			if out[i].Seq == seq {
				out[i].Attachments = append(out[i].Attachments, a)
			}
		}
	}
	return out, arows.Err()
}

// ReporterReply adds the reporter's message (an answer, or more
// information) with files. A closed case takes none.
func (s *Service) ReporterReply(ctx context.Context, tenantID, envelope, text string, files []Upload) ([]FileNote, error) {
	rid, key, err := s.reporter(tenantID, envelope)
	if err != nil {
		return nil, err
	}
	if err := checkText("text", text, len(files) == 0); err != nil {
		return nil, err
	}
	if len(files) > MaxAttachments {
		return nil, ErrTooManyFiles
	}
	stored, notes, err := s.storeFiles(ctx, tenantID, rid, key.Recipient(), files)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM whistle_reports WHERE tenant_id = $1 AND id = $2`, tenantID, rid).Scan(&status); err != nil {
			return ErrNotRecognised
		}
		if status == Closed {
			return ErrState
		}
		if err := spendAttachments(ctx, tx, tenantID, rid, len(stored)); err != nil {
			return err
		}
		_, err := s.appendEntry(ctx, tx, tenantID, rid, key.Recipient(), KindMessage, "reporter", "", &Content{Text: strings.TrimSpace(text)}, stored)
		return err
	})
	if err != nil {
		s.dropFiles(ctx, tenantID, stored)
		return nil, err
	}
	return notes, nil
}

// RequestMeeting records the reporter's wish to report orally, in a meeting
// (the directive's Art. 9(2)).
func (s *Service) RequestMeeting(ctx context.Context, tenantID, envelope string) error {
	rid, _, err := s.reporter(tenantID, envelope)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE whistle_reports SET meeting_requested = TRUE, activity_on = $3, reporter_activity_on = $3
			WHERE tenant_id = $1 AND id = $2 AND status <> 'closed'`, tenantID, rid, Day(s.now()))
		return err
	})
}

// File is an attachment opened for download.
type File struct {
	Name string
	Type string
	Data []byte
}

func (s *Service) openAttachment(ctx context.Context, tenantID, reportID, attID string, key *vault.Identity) (*File, error) {
	var blobKey, sealedMeta []byte
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT blob_key, sealed_meta FROM whistle_attachments WHERE tenant_id = $1 AND report_id = $2 AND id = $3`,
			tenantID, reportID, attID).Scan(&blobKey, &sealedMeta)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	mb, err := vault.OpenBytes(key, vault.Binding{Company: tenantID, Report: reportID, Purpose: "attachment-meta", Item: attID}, sealedMeta)
	if err != nil {
		return nil, err
	}
	var m attachmentMeta
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, err
	}
	r, err := s.o.Blobs.Open(ctx, tenantID, "whistle-"+attID, blobKey)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	plain, err := vault.Open(r, key, attachmentBinding(tenantID, reportID, attID))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(plain)
	if err != nil {
		return nil, err
	}
	return &File{Name: m.Name, Type: m.Type, Data: data}, nil
}

// ReporterAttachment opens one of the case's attachments for the reporter.
func (s *Service) ReporterAttachment(ctx context.Context, tenantID, envelope, attID string) (*File, error) {
	rid, key, err := s.reporter(tenantID, envelope)
	if err != nil {
		return nil, err
	}
	return s.openAttachment(ctx, tenantID, rid, attID, key)
}

var _ = db.Now
