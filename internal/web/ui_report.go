package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/filetype"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
	"github.com/kandidat/kandidat/internal/whistle/vault"
)

// The reporter's pages (/report/...) are the whistleblowing channel's
// public side: no account, usable without JavaScript and over Tor, and
// leaving no trace of the reporter. The middleware treats them apart
// (isReport): no access-log line or metric, no session or language cookie
// read or written, Referrer-Policy no-referrer, nothing cached; errors are
// logged through noTraceHandler, whose records carry the day only. The only
// cookie is ReportCookie, the envelope of an opened case. The rate limits
// (reportLimiter) hold keyed hashes of addresses, each only for its window.

// ReportCookie keeps the envelope of the case a reporter opened with their
// receipt (whistle.OpenByReceipt), renewed with every request.
const ReportCookie = "__Host-kandidat-report"

// MaxReportUploadBytes bounds one report or reply with its files; a larger
// request is refused with 413 before it is read.
const MaxReportUploadBytes = 2*whistle.MaxAttachmentBytes + 1<<20

// isReport reports whether r is for one of the reporter's pages.
func isReport(r *http.Request) bool {
	return r.URL.Path == "/report" || strings.HasPrefix(r.URL.Path, "/report/")
}

// logFor returns the log for r's errors: on the reporter's pages, one that
// keeps no time finer than the day and no client address or agent.
func (s *Server) logFor(r *http.Request) *slog.Logger {
	if isReport(r) {
		return slog.New(noTraceHandler{s.Logger.Handler()})
	}
	return s.Logger
}

// noTraceHandler passes records on with their time cut to the day (UTC)
// and without attributes that could name a client.
type noTraceHandler struct{ next slog.Handler }

// NoTraceHandler returns a log handler that writes to next with each
// record's time cut to the day and without client addresses or agents: for
// whatever logs on the reporter's path (the whistleblowing service).
func NoTraceHandler(next slog.Handler) slog.Handler { return noTraceHandler{next} }

// clientKeys are attribute keys a record of the reporter's pages never carries.
var clientKeys = []string{"ip", "client_ip", "remote_addr", "address", "user_agent", "agent", "forwarded_for"}

func (h noTraceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h noTraceHandler) Handle(ctx context.Context, r slog.Record) error {
	t := r.Time.UTC()
	out := slog.NewRecord(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), r.Level, r.Message, 0)
	r.Attrs(func(a slog.Attr) bool {
		if !slices.Contains(clientKeys, strings.ToLower(a.Key)) {
			out.AddAttrs(a)
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h noTraceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	kept := slices.DeleteFunc(slices.Clone(as), func(a slog.Attr) bool { return slices.Contains(clientKeys, strings.ToLower(a.Key)) })
	return noTraceHandler{h.next.WithAttrs(kept)}
}

func (h noTraceHandler) WithGroup(name string) slog.Handler {
	return noTraceHandler{h.next.WithGroup(name)}
}

// reportRule is a rate limit of the reporter's pages: at most perAddress
// requests from one address to one company, and perCompany to one company
// from all addresses (a backstop: over Tor every request comes from the
// local tor daemon, so one address is everyone), in each window.
type reportRule struct {
	name                   string
	perAddress, perCompany int
	window                 time.Duration
}

var (
	reportSubmitRule   = reportRule{name: "submit", perAddress: 5, perCompany: 60, window: time.Hour}
	reportFollowUpRule = reportRule{name: "follow-up", perAddress: 10, perCompany: 200, window: 15 * time.Minute}
	reportReplyRule    = reportRule{name: "reply", perAddress: 20, perCompany: 200, window: time.Hour}
	reportRules        = []reportRule{reportSubmitRule, reportFollowUpRule, reportReplyRule}
)

const (
	// reportUploadsPerAddress and reportUploadsInFlight bound the reports
	// and replies read at once (each holds up to MaxReportUploadBytes).
	reportUploadsPerAddress = 2
	reportUploadsInFlight   = 8
	// reportLimitEntries bounds the limiter's memory; past it, requests
	// from new addresses are refused until windows end.
	reportLimitEntries = 200_000
)

// reportLimiter holds the rate limits of the reporter's pages in memory
// (per instance). Its keys are HMAC-SHA256 of the address under a random
// key of this process, so its map never holds an address; each entry is
// deleted when its window ends (on the next request, or by a timer when
// none comes), so nothing of a reporter stays beyond the window.
type reportLimiter struct {
	mu     sync.Mutex
	secret []byte
	now    func() time.Time
	counts map[string]*reportCount
	// queue holds the keys of each rule in the order their windows end
	// (every window of a rule is equally long, so insertion order).
	queue map[string][]queued
	timer *time.Timer
	// uploads counts the reports and replies being read, per address key and in all.
	uploads uploadSlots
}

type reportCount struct {
	n    int
	ends time.Time
}

type queued struct {
	key  string
	ends time.Time
}

func newReportLimiter() *reportLimiter {
	secret := make([]byte, 32)
	rand.Read(secret)
	return &reportLimiter{secret: secret, now: time.Now, counts: map[string]*reportCount{}, queue: map[string][]queued{}}
}

// addressKey is the limiter's name of a client address. An IPv6 address
// counts by its /64, the block one subscriber holds, so that a single
// machine cannot fill the limiter with fresh addresses.
func (l *reportLimiter) addressKey(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			addr = p.String()
		}
	}
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(addr))
	return string(m.Sum(nil)[:16])
}

// refund gives back the request allow counted last for the address and
// company: a form refused for its content does not use up the reporter's
// allowance.
func (l *reportLimiter) refund(rule reportRule, addrKey, company string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, key := range []string{rule.name + "|a|" + company + "|" + addrKey, rule.name + "|c|" + company} {
		if c := l.counts[key]; c != nil && c.n > 0 {
			c.n--
		}
	}
}

// allow counts one request of rule from the address (its addressKey) to
// company, or reports how long until the next one is allowed.
func (l *reportLimiter) allow(rule reportRule, addrKey, company string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.expireLocked(now)
	byAddr := rule.name + "|a|" + company + "|" + addrKey
	byCompany := rule.name + "|c|" + company
	for _, k := range []struct {
		key   string
		limit int
	}{{byAddr, rule.perAddress}, {byCompany, rule.perCompany}} {
		if c := l.counts[k.key]; c != nil && c.n >= k.limit {
			return c.ends.Sub(now), false
		}
	}
	if len(l.counts)+2 > reportLimitEntries {
		return rule.window, false
	}
	for _, key := range []string{byAddr, byCompany} {
		c := l.counts[key]
		if c == nil {
			c = &reportCount{ends: now.Add(rule.window)}
			l.counts[key] = c
			l.queue[rule.name] = append(l.queue[rule.name], queued{key: key, ends: c.ends})
		}
		c.n++
	}
	l.armLocked(now)
	return 0, true
}

// expire deletes the entries whose window has ended (the timer's work).
func (l *reportLimiter) expire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.expireLocked(now)
	l.timer = nil
	l.armLocked(now)
}

func (l *reportLimiter) expireLocked(now time.Time) {
	for name, q := range l.queue {
		i := 0
		for ; i < len(q) && !q[i].ends.After(now); i++ {
			if c := l.counts[q[i].key]; c != nil && c.ends.Equal(q[i].ends) {
				delete(l.counts, q[i].key)
			}
		}
		if i == len(q) {
			delete(l.queue, name)
		} else if i > 0 {
			l.queue[name] = slices.Clone(q[i:])
		}
	}
}

// armLocked sets a timer for the earliest end of a window, so that entries
// go when their window does even if no request comes.
func (l *reportLimiter) armLocked(now time.Time) {
	if l.timer != nil || len(l.queue) == 0 {
		return
	}
	var first time.Time
	for _, q := range l.queue {
		if first.IsZero() || q[0].ends.Before(first) {
			first = q[0].ends
		}
	}
	l.timer = time.AfterFunc(max(first.Sub(now), time.Second), l.expire)
}

// entries is how many counts the limiter holds.
func (l *reportLimiter) entries() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts) + l.uploads.keys()
}

// enter takes one of the upload places of the address (its addressKey).
func (l *reportLimiter) enter(addrKey string) (release func(), ok bool) {
	return l.uploads.enter(addrKey, reportUploadsPerAddress, reportUploadsInFlight)
}

// reportData is what the reporter's pages show.
type reportData struct {
	Company  *tenant.Tenant
	Channels []*whistle.Channel
	Channel  *whistle.Channel
	// Langs are the languages offered by the switcher (links with ?lang=).
	Langs []string
	// Lang is the page's language, for labels of the channel's texts.
	Lang      string
	Receipt   *whistle.Receipt
	Case      *whistle.ReporterCase
	MaxFileMB int
	MaxAllMB  int
}

// Label returns a label of the channel's texts in the page's language.
func (d reportData) Label(labels map[string]string) string {
	def := ""
	if d.Channel != nil {
		def = d.Channel.DefaultLanguage
	}
	return whistle.Label(labels, d.Lang, def)
}

// Intro returns the channel's introduction as paragraphs.
func (d reportData) Intro() []string {
	if d.Channel == nil {
		return nil
	}
	text := d.Channel.Intro[d.Lang]
	if text == "" {
		text = d.Channel.Intro[d.Channel.DefaultLanguage]
	}
	return paragraphs(text)
}

// Paragraphs splits a text at blank lines.
func (d reportData) Paragraphs(text string) []string { return paragraphs(text) }

func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Date writes a day (YYYY-MM-DD) as a reader of the page's language does.
func (d reportData) Date(day string) string {
	t := whistle.ParseDay(day)
	if t.IsZero() {
		return day
	}
	return i18n.Date(d.Lang, t)
}

// Groups splits the receipt's code into its groups of digits.
func (d reportData) Groups() []string {
	if d.Receipt == nil {
		return nil
	}
	return strings.Fields(d.Receipt.Code)
}

// IsNew reports whether a handler's message came after the reporter last looked.
func (d reportData) IsNew(e whistle.EntryView) bool {
	return d.Case != nil && e.AuthorKind != "reporter" && e.Seq > d.Case.Info.ReporterSeen
}

// Question keys of a channel's form are fields named q_<key>.
func questionField(key string) string { return "q_" + key }

// Field returns the form field name of a question.
func (d reportData) Field(q whistle.Question) string { return questionField(q.Key) }

// reportCompany finds the company of a reporter's page: by its sign-in
// name, with the whistleblowing module on; 404 otherwise.
func (s *Server) reportCompany(w http.ResponseWriter, r *http.Request) *tenant.Tenant {
	t, err := s.Tenants.BySlug(r.Context(), r.PathValue("company"))
	if errors.Is(err, tenant.ErrNotFound) || err == nil && !t.Enabled(tenant.Whistleblowing) {
		s.renderError(w, r, http.StatusNotFound)
		return nil
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return t
}

// reportLang chooses the language of a reporter's page among langs: the
// one asked for (?lang=, or the form's lang), else the browser's first
// among them, else def.
func reportLang(r *http.Request, asked string, langs []string, def string) string {
	if slices.Contains(langs, asked) {
		return asked
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		if tags, _, err := language.ParseAcceptLanguage(al); err == nil {
			for _, tag := range tags {
				base, _ := tag.Base()
				code := base.String()
				if code == "no" || code == "nn" {
					code = "nb"
				}
				if slices.Contains(langs, code) {
					return code
				}
			}
		}
	}
	return def
}

// reportPage starts a reporter's page in lang.
func (s *Server) reportPage(r *http.Request, title, lang string) *page {
	pg := s.newPage(r, title)
	pg.Lang, pg.LangFixed = lang, true // the pages offer their own choice (?lang=), never the cookie
	return pg
}

func (s *Server) handleReportIndex(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	channels, err := s.Whistle.ActiveChannels(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := reportLang(r, r.URL.Query().Get("lang"), whistle.Languages, stateOf(r).lang)
	pg := s.reportPage(r, "report.index_title", lang)
	pg.Data = reportData{Company: t, Channels: channels, Langs: whistle.Languages, Lang: lang}
	s.render(w, r, http.StatusOK, "report_index", pg)
}

func (s *Server) handleReportForm(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	ch, err := s.Whistle.OpenChannel(r.Context(), t.ID, r.PathValue("channel"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := reportLang(r, r.URL.Query().Get("lang"), ch.Languages, ch.DefaultLanguage)
	s.renderReportForm(w, r, http.StatusOK, t, ch, s.reportPage(r, "report.form_title", lang))
}

func (s *Server) renderReportForm(w http.ResponseWriter, r *http.Request, status int, t *tenant.Tenant, ch *whistle.Channel, pg *page) {
	pg.Data = reportData{Company: t, Channel: ch, Langs: ch.Languages, Lang: pg.Lang,
		MaxFileMB: whistle.MaxAttachmentBytes >> 20, MaxAllMB: (MaxReportUploadBytes - 1<<20) >> 20}
	s.render(w, r, status, "report_form", pg)
}

// handleReportSubmit reads the report as a stream (each file at most
// whistle.MaxAttachmentBytes, the whole at most MaxReportUploadBytes, once
// the address has an upload place and a submission left), files it, and
// shows the receipt at once: it is never stored, so there is nothing to
// redirect to.
func (s *Server) handleReportSubmit(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	ch, err := s.Whistle.OpenChannel(r.Context(), t.ID, r.PathValue("channel"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.ContentLength > MaxReportUploadBytes {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	addr := s.reportLimit.addressKey(stateOf(r).clientIP)
	release, ok := s.reportLimit.enter(addr)
	if !ok {
		s.tooMany(w, r, 10*time.Second)
		return
	}
	defer release()
	if retry, ok := s.reportLimit.allow(reportSubmitRule, addr, t.ID); !ok {
		s.tooMany(w, r, retry)
		return
	}
	fileFields := []string{"files"}
	for _, q := range ch.Questions {
		if q.Kind == whistle.QuestionAttachments {
			fileFields = append(fileFields, questionField(q.Key))
		}
	}
	form, files, tooLarge, ok := s.readReportForm(w, r, fileFields)
	if !ok {
		return
	}
	lang := reportLang(r, form["lang"], ch.Languages, ch.DefaultLanguage)
	pg := s.reportPage(r, "report.form_title", lang)
	for k, v := range form {
		if k != "passphrase" && k != "passphrase_confirm" {
			pg.Form[k] = v
		}
	}
	if tooLarge {
		pg.Errors["files"] = "whistle.error.file_too_large"
		s.renderReportForm(w, r, http.StatusRequestEntityTooLarge, t, ch, pg)
		return
	}
	if form["passphrase"] != form["passphrase_confirm"] {
		pg.Errors["passphrase"] = "report.error.passphrase_mismatch"
		s.renderReportForm(w, r, http.StatusUnprocessableEntity, t, ch, pg)
		return
	}
	sub := whistle.Submission{Language: lang, Category: form["category"], Answers: map[string]string{}, Text: form["text"],
		Name: form["name"], Contact: form["contact"], Passphrase: form["passphrase"], Meeting: form["meeting"] == "yes", Files: files}
	for _, q := range ch.Questions {
		if q.Kind != whistle.QuestionAttachments {
			sub.Answers[q.Key] = form[questionField(q.Key)]
		}
	}
	receipt, err := s.Whistle.Submit(r.Context(), t.ID, ch.ID, sub)
	if msgs := fault.Messages(err); msgs != nil {
		s.reportLimit.refund(reportSubmitRule, addr, t.ID)
		for k, v := range msgs {
			pg.Errors[k] = v
		}
		s.renderReportForm(w, r, statusOf(err), t, ch, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Title = "report.receipt_title"
	pg.Data = reportData{Company: t, Channel: ch, Lang: lang, Receipt: receipt}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "report_receipt", pg)
}

// readReportForm reads a reporter's multipart form: text fields (at most
// 64 KB each, 100 of them), and the files of the fields named in
// fileFields (each at most whistle.MaxAttachmentBytes; a larger one is
// skipped and tooLarge set). It answers the request itself when the form
// cannot be read (ok false).
func (s *Server) readReportForm(w http.ResponseWriter, r *http.Request, fileFields []string) (form map[string]string, files []whistle.Upload, tooLarge, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxReportUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return nil, nil, false, false
	}
	form, files, tooLarge, err = readReportParts(mr, fileFields)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return nil, nil, false, false
	case err != nil:
		s.renderError(w, r, http.StatusBadRequest)
		return nil, nil, false, false
	}
	return form, files, tooLarge, true
}

func readReportParts(mr *multipart.Reader, fileFields []string) (form map[string]string, files []whistle.Upload, tooLarge bool, err error) {
	form = map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return form, files, tooLarge, nil
		}
		if err != nil {
			return nil, nil, false, err
		}
		name := part.FormName()
		if part.FileName() != "" || slices.Contains(fileFields, name) {
			data, err := io.ReadAll(io.LimitReader(part, whistle.MaxAttachmentBytes+1))
			if err != nil {
				return nil, nil, false, err
			}
			if len(data) > whistle.MaxAttachmentBytes {
				tooLarge = true
				if _, err := io.Copy(io.Discard, part); err != nil {
					return nil, nil, false, err
				}
				continue
			}
			if len(data) > 0 {
				files = append(files, whistle.Upload{Name: part.FileName(), Data: data}) // the service refuses too many
			}
			continue
		}
		if len(form) >= 100 {
			return nil, nil, false, errTooManyParts
		}
		// One byte past the limit, so that a longer text is refused by the
		// service (whistle.MaxTextBytes) rather than cut off unseen.
		v, err := io.ReadAll(io.LimitReader(part, whistle.MaxTextBytes+1))
		if err != nil {
			return nil, nil, false, err
		}
		form[name] = string(v)
	}
}

// handleReceiptDownload answers the receipt posted back as a text file to
// keep: made from the form, neither stored nor logged.
func (s *Server) handleReceiptDownload(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	if !s.parseSmallForm(w, r) {
		return
	}
	code := r.PostForm.Get("receipt")
	if _, err := vault.NormalizeReceipt(code); err != nil {
		s.renderError(w, r, http.StatusBadRequest)
		return
	}
	lang := reportLang(r, r.PostForm.Get("lang"), whistle.Languages, stateOf(r).lang)
	d := reportData{Lang: lang}
	tr := func(key string, args ...any) string { return s.I18n.T(lang, key, args...) }
	scheme := "http"
	if stateOf(r).https {
		scheme = "https"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\r\n\r\n", tr("report.receipt_file_title", "company", t.Name))
	fmt.Fprintf(&b, "%s\r\n    %s\r\n\r\n", tr("report.receipt_code"), strings.Join(strings.Fields(code), " "))
	if ack, fb := r.PostForm.Get("ack_due"), r.PostForm.Get("feedback_due"); !whistle.ParseDay(ack).IsZero() && !whistle.ParseDay(fb).IsZero() {
		fmt.Fprintf(&b, "%s %s\r\n%s %s\r\n\r\n", tr("report.ack_due"), d.Date(ack), tr("report.feedback_due"), d.Date(fb))
	}
	fmt.Fprintf(&b, "%s\r\n    %s://%s/report/%s/follow-up\r\n\r\n", tr("report.receipt_file_return"), scheme, r.Host, url.PathEscape(t.Slug))
	fmt.Fprintf(&b, "%s\r\n", tr("report.receipt_keep"))
	download(w, "text/plain; charset=utf-8", "receipt.txt", []byte(b.String()))
}

func (s *Server) handleFollowUpForm(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	lang := reportLang(r, r.URL.Query().Get("lang"), whistle.Languages, stateOf(r).lang)
	s.renderFollowUp(w, r, http.StatusOK, t, s.reportPage(r, "report.follow_up_title", lang))
}

func (s *Server) renderFollowUp(w http.ResponseWriter, r *http.Request, status int, t *tenant.Tenant, pg *page) {
	pg.Data = reportData{Company: t, Langs: whistle.Languages, Lang: pg.Lang}
	s.render(w, r, status, "report_follow_up", pg)
}

// handleFollowUp opens the case of a receipt (and passphrase) into the
// reporter's cookie. Every refusal is the same page with the same one
// message, whether the receipt exists or not; the receipt and passphrase
// are never shown again.
func (s *Server) handleFollowUp(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	addr := s.reportLimit.addressKey(stateOf(r).clientIP)
	if retry, ok := s.reportLimit.allow(reportFollowUpRule, addr, t.ID); !ok {
		s.tooMany(w, r, retry)
		return
	}
	if !s.parseSmallForm(w, r) {
		return
	}
	lang := reportLang(r, r.PostForm.Get("lang"), whistle.Languages, stateOf(r).lang)
	envelope, err := s.Whistle.OpenByReceipt(r.Context(), t.ID, r.PostForm.Get("receipt"), r.PostForm.Get("passphrase"))
	if err != nil {
		if fault.KindOf(err) == nil {
			s.fail(w, r, err)
			return
		}
		pg := s.reportPage(r, "report.follow_up_title", lang)
		pg.Errors[""] = "whistle.error.receipt"
		s.renderFollowUp(w, r, http.StatusUnprocessableEntity, t, pg)
		return
	}
	setReportCookie(w, envelope)
	http.Redirect(w, r, reportCasePath(t, "", lang), http.StatusSeeOther)
}

// parseSmallForm reads a form of the reporter's pages that carries no
// file (the middleware lets their requests be as large as a report).
func (s *Server) parseSmallForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if statusOf(err) == http.StatusRequestEntityTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		s.renderError(w, r, status)
		return false
	}
	return true
}

func reportCasePath(t *tenant.Tenant, sub, lang string) string {
	return "/report/" + url.PathEscape(t.Slug) + "/case" + sub + "?lang=" + url.QueryEscape(lang)
}

func setReportCookie(w http.ResponseWriter, envelope string) {
	http.SetCookie(w, &http.Cookie{Name: ReportCookie, Value: envelope, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearReportCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: ReportCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// reporter returns the company and the renewed envelope of the reporter's
// case, with the renewed cookie written; without an open case it sends
// the reporter to the follow-up page (ok false).
func (s *Server) reporter(w http.ResponseWriter, r *http.Request) (*tenant.Tenant, string, bool) {
	t := s.reportCompany(w, r)
	if t == nil {
		return nil, "", false
	}
	c, err := r.Cookie(ReportCookie)
	var envelope string
	if err == nil && c.Value != "" {
		envelope, err = s.Whistle.RenewReporter(t.ID, c.Value)
	}
	if err != nil || envelope == "" {
		if c != nil {
			clearReportCookie(w)
		}
		lang := reportLang(r, r.URL.Query().Get("lang"), whistle.Languages, stateOf(r).lang)
		http.Redirect(w, r, "/report/"+url.PathEscape(t.Slug)+"/follow-up?lang="+url.QueryEscape(lang), http.StatusSeeOther)
		return nil, "", false
	}
	setReportCookie(w, envelope)
	return t, envelope, true
}

func (s *Server) handleReportCase(w http.ResponseWriter, r *http.Request) {
	t, envelope, ok := s.reporter(w, r)
	if !ok {
		return
	}
	s.renderReportCase(w, r, http.StatusOK, t, envelope, nil, r.URL.Query().Get("lang"))
}

func (s *Server) renderReportCase(w http.ResponseWriter, r *http.Request, status int, t *tenant.Tenant, envelope string, pg *page, asked string) {
	rc, err := s.Whistle.ReporterView(r.Context(), t.ID, envelope)
	if errors.Is(err, whistle.ErrNotRecognised) {
		clearReportCookie(w)
		http.Redirect(w, r, "/report/"+url.PathEscape(t.Slug)+"/follow-up", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := reportLang(r, asked, whistle.Languages, rc.Info.Language)
	if pg == nil {
		pg = s.reportPage(r, "report.case_title", lang)
	}
	pg.Lang = lang
	pg.Data = reportData{Company: t, Case: rc, Langs: whistle.Languages, Lang: lang,
		MaxFileMB: whistle.MaxAttachmentBytes >> 20, MaxAllMB: (MaxReportUploadBytes - 1<<20) >> 20}
	s.render(w, r, status, "report_case", pg)
}

// handleReportReply adds the reporter's message (text and files) to the case.
func (s *Server) handleReportReply(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxReportUploadBytes {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return
	}
	t, envelope, ok := s.reporter(w, r)
	if !ok {
		return
	}
	addr := s.reportLimit.addressKey(stateOf(r).clientIP)
	release, ok := s.reportLimit.enter(addr)
	if !ok {
		s.tooMany(w, r, 10*time.Second)
		return
	}
	defer release()
	if retry, ok := s.reportLimit.allow(reportReplyRule, addr, t.ID); !ok {
		s.tooMany(w, r, retry)
		return
	}
	form, files, tooLarge, ok := s.readReportForm(w, r, []string{"files"})
	if !ok {
		return
	}
	pg := s.reportPage(r, "report.case_title", "en")
	pg.Form["text"] = form["text"]
	if tooLarge {
		pg.Errors["files"] = "whistle.error.file_too_large"
		s.renderReportCase(w, r, http.StatusRequestEntityTooLarge, t, envelope, pg, form["lang"])
		return
	}
	_, err := s.Whistle.ReporterReply(r.Context(), t.ID, envelope, form["text"], files)
	if msgs := fault.Messages(err); msgs != nil {
		for k, v := range msgs {
			pg.Errors[k] = v
		}
		s.renderReportCase(w, r, statusOf(err), t, envelope, pg, form["lang"])
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, reportCasePath(t, "", form["lang"])+"#messages", http.StatusSeeOther)
}

// handleReportMeeting records the reporter's wish to report in a meeting.
func (s *Server) handleReportMeeting(w http.ResponseWriter, r *http.Request) {
	t, envelope, ok := s.reporter(w, r)
	if !ok {
		return
	}
	if !s.parseSmallForm(w, r) {
		return
	}
	if err := s.Whistle.RequestMeeting(r.Context(), t.ID, envelope); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, reportCasePath(t, "", r.PostFormValue("lang"))+"#meeting", http.StatusSeeOther)
}

// handleReportLeave closes the reporter's case in this browser.
func (s *Server) handleReportLeave(w http.ResponseWriter, r *http.Request) {
	t := s.reportCompany(w, r)
	if t == nil {
		return
	}
	clearReportCookie(w)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	lang := reportLang(r, r.PostFormValue("lang"), whistle.Languages, stateOf(r).lang)
	http.Redirect(w, r, "/report/"+url.PathEscape(t.Slug)+"/follow-up?lang="+url.QueryEscape(lang), http.StatusSeeOther)
}

// handleReportFile serves one of the case's files to the reporter, always
// as a download under its stored name.
func (s *Server) handleReportFile(w http.ResponseWriter, r *http.Request) {
	t, envelope, ok := s.reporter(w, r)
	if !ok {
		return
	}
	f, err := s.Whistle.ReporterAttachment(r.Context(), t.ID, envelope, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, filetype.Type(f.Type).ContentType(), f.Name, f.Data)
}
