// Package jobs runs Kandidat's background work: announcing audit alerts to
// the companies' administrators, signing audit checkpoints, pruning audit
// records past their retention and expired sessions. Each job runs on one
// instance at a time: on PostgreSQL a session advisory lock elects the
// instance; SQLite serves one machine.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/backup"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
	"github.com/kandidat/kandidat/internal/whistle"
)

// Runner runs the periodic jobs.
type Runner struct {
	DB       *db.DB
	Audit    *audit.Log
	Accounts *account.Service
	Tenants  *tenant.Service
	Recruit  *recruit.Service
	// Privacy sends the weekly digest of expiry notices (nil: none),
	// erases daily (unless NoErasureSweep) and makes the database forget
	// the bytes of what was erased.
	Privacy        *privacy.Service
	NoErasureSweep bool
	Mailer         notify.Mailer
	// Queue is the outgoing email and SMS the services wrote; delivered with Mailer and SMS.
	Queue     *notify.Queue
	SMS       notify.SMSSender
	I18n      *i18n.Bundle
	Logger    *slog.Logger
	BaseURL   string
	Retention audit.Retention
	// CheckpointEvery is the interval of audit checkpoints.
	CheckpointEvery time.Duration
	// AlertEvery is how often new alerts are looked for (default 10s).
	AlertEvery time.Duration
	// Extractor reads the text of uploaded documents (nil: none is read);
	// Run closes it when it returns.
	Extractor interface {
		recruit.Extractor
		Close() error
	}
	// TextEvery is how often documents waiting for their text are looked
	// for (default 5s).
	TextEvery time.Duration
	// Webhooks turns the companies' events into deliveries and sends them
	// (nil: none).
	Webhooks *webhook.Service
	// Whistle sends the case handlers' reminders and deletes cases whose retention ran out.
	Whistle *whistle.Service
	// Backups writes the scheduled backups and runs the restore drill (nil: none).
	Backups *backup.Scheduler

	alerts *prometheus.CounterVec
	runs   *prometheus.CounterVec
}

// Register adds the runner's metrics to reg.
func (r *Runner) Register(reg prometheus.Registerer) error {
	r.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kandidat_audit_alerts_total", Help: "Audit alerts raised, by rule, counted when announced.",
	}, []string{"rule"})
	r.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kandidat_job_runs_total", Help: "Background job runs by job and result.",
	}, []string{"job", "result"})
	for _, rule := range audit.AllRules {
		r.alerts.WithLabelValues(string(rule)) // expose zeros, so rate() works from the start
	}
	for _, c := range []prometheus.Collector{r.alerts, r.runs} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

type job struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) error
}

// Run runs every job on its schedule until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	every := r.CheckpointEvery
	if every <= 0 {
		every = time.Hour
	}
	alertEvery := r.AlertEvery
	if alertEvery <= 0 {
		alertEvery = 10 * time.Second
	}
	jobs := []job{
		{"audit.alerts", alertEvery, func(ctx context.Context) error { _, err := r.NotifyAlerts(ctx); return err }},
		{"audit.checkpoint", every, func(ctx context.Context) error { _, err := r.Audit.Checkpoint(ctx, "periodic"); return err }},
		{"audit.prune", 24 * time.Hour, func(ctx context.Context) error { _, err := r.Audit.Prune(ctx, r.Retention, 1000); return err }},
		{"sessions.prune", time.Hour, func(ctx context.Context) error { _, err := r.Accounts.PruneSessions(ctx); return err }},
		{"api.idempotency_prune", time.Hour, func(ctx context.Context) error { _, err := r.Accounts.PruneIdempotencyKeys(ctx); return err }},
		// Recovery codes stored before they were keyed: re-hashed under
		// their users' keys soon after start, then nothing is pending.
		{"account.recovery_codes", 24 * time.Hour, func(ctx context.Context) error { _, err := r.Accounts.UpgradeRecoveryCodes(ctx); return err }},
		{"email.deliver", min(alertEvery, 2*time.Second), func(ctx context.Context) error { _, err := r.DeliverEmail(ctx); return err }},
	}
	// The planner's statistics: soon after start, then every six hours
	// (SQLite; PostgreSQL's autovacuum keeps its own).
	jobs = append(jobs, job{"db.optimize", 6 * time.Hour, func(ctx context.Context) error { return r.DB.Optimize(ctx) }})
	if r.Privacy != nil {
		if !r.NoErasureSweep {
			// The erasure the companies' policies call for, daily; a sweep a
			// crash stopped resumes on the next run.
			jobs = append(jobs, job{"privacy.sweep", 24 * time.Hour, func(ctx context.Context) error {
				rep, err := r.Privacy.Sweep(ctx, privacy.SweepOptions{})
				if rep.Total > 0 && r.Logger != nil {
					r.Logger.Info("privacy sweep", "erased", rep.Total, "companies", rep.Companies)
				}
				return err
			}})
		}
		// Bases to recompute: after a change of a company's purpose period
		// that a crash or a timeout stopped, and after the upgrade.
		if r.Recruit != nil {
			jobs = append(jobs, job{"privacy.bases", time.Hour, func(ctx context.Context) error {
				_, err := r.Recruit.BackfillBases(ctx)
				return err
			}})
		}
		// Erasures by hand leave their bytes in the search index's pages
		// and the write-ahead log for at most this long.
		jobs = append(jobs, job{"privacy.forget", 10 * time.Minute, func(ctx context.Context) error { return r.Privacy.ForgetPending(ctx) }})
		// The consent log keeps an entry ten years (tenant.ConsentLogYears), then forgets it.
		jobs = append(jobs, job{"privacy.consent_log", 24 * time.Hour, func(ctx context.Context) error {
			_, err := r.Privacy.PruneConsentLog(ctx, time.Now())
			return err
		}})
	}
	if r.Privacy != nil && r.Accounts != nil {
		// The weekly digest of expiry notices: due once an ISO week of each
		// company's calendar, spent per user in the transaction that queues it.
		jobs = append(jobs, job{"privacy.digest", time.Hour, func(ctx context.Context) error {
			_, err := r.Privacy.SendDigests(ctx, r.Accounts.ListUsers)
			return err
		}})
	}
	if r.Recruit != nil {
		jobs = append(jobs, job{"interviews.remind", 15 * time.Minute, func(ctx context.Context) error { _, err := r.Recruit.SendInterviewReminders(ctx); return err }})
		// The search index follows changes a moment later (the queue's
		// triggers), and indexes what existed before it on the first run.
		jobs = append(jobs, job{"search.index", time.Second, func(ctx context.Context) error {
			for {
				n, err := r.Recruit.IndexQueued(ctx, 200)
				if err != nil || n == 0 {
					return err
				}
			}
		}})
		if r.Extractor != nil {
			defer r.Extractor.Close()
			textEvery := r.TextEvery
			if textEvery <= 0 {
				textEvery = 5 * time.Second
			}
			// New uploads and, after the upgrade that added it, every older
			// document: a batch at a time until none waits.
			jobs = append(jobs, job{"documents.text", textEvery, func(ctx context.Context) error { return r.ExtractTexts(ctx) }})
		}
	}
	if r.Webhooks != nil {
		// Events a few seconds after their change; deliveries as they fall due.
		jobs = append(jobs,
			job{"webhooks.events", 5 * time.Second, func(ctx context.Context) error { _, err := r.Webhooks.Enqueue(ctx); return err }},
			job{"webhooks.deliver", 2 * time.Second, func(ctx context.Context) error { _, err := r.DeliverWebhooks(ctx); return err }},
			job{"webhooks.prune", 24 * time.Hour, func(ctx context.Context) error { _, err := r.Webhooks.Prune(ctx); return err }})
	}
	if r.Whistle != nil {
		jobs = append(jobs,
			job{"whistle.remind", time.Hour, func(ctx context.Context) error { _, err := r.Whistle.Remind(ctx); return err }},
			job{"whistle.sweep", 6 * time.Hour, func(ctx context.Context) error { _, err := r.Whistle.Sweep(ctx); return err }})
	}
	if r.Backups != nil && len(r.Backups.Specs) > 0 {
		// Each target's schedule is checked every minute; a due target is
		// written, a failed one tried again after its pause.
		jobs = append(jobs, job{"backup.create", time.Minute, r.Backups.Tick})
		if r.Backups.Verify != nil {
			jobs = append(jobs, job{"backup.drill", time.Hour, r.Backups.Drill})
		}
	}
	done := make(chan struct{})
	for _, j := range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			// The first run comes soon after start, staggered, then on schedule.
			timer := time.NewTimer(min(j.every, 5*time.Second))
			defer timer.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
				r.runOnce(ctx, j)
				timer.Reset(j.every)
			}
		}()
	}
	for range jobs {
		<-done
	}
}

func (r *Runner) runOnce(ctx context.Context, j job) {
	err := r.exclusive(ctx, j.name, j.run)
	result := "ok"
	switch {
	case errors.Is(err, errNotLeader):
		result = "skipped"
	case err != nil && ctx.Err() == nil:
		result = "error"
		r.Logger.Error("job failed", "job", j.name, "error", err.Error())
	}
	if r.runs != nil {
		r.runs.WithLabelValues(j.name, result).Inc()
	}
}

var errNotLeader = errors.New("another instance runs this job")

// exclusive runs fn while holding the job's lock, so one instance runs it.
func (r *Runner) exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	release, ok, err := r.DB.TryLock(ctx, "kandidat-job|"+name)
	if err != nil {
		return err
	}
	if !ok {
		return errNotLeader
	}
	defer release()
	return fn(ctx)
}

// NotifyAlerts announces new alerts: by email to each active administrator
// of the company with an address (in their language), in the metrics, and
// in the log. It returns how many alerts it announced.
func (r *Runner) NotifyAlerts(ctx context.Context) (int, error) {
	alerts, err := r.Audit.PendingNotifications(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range alerts {
		if err := r.announce(ctx, a); err != nil {
			return n, fmt.Errorf("announce alert %s: %w", a.ID, err)
		}
		if err := r.Audit.MarkNotified(ctx, a.TenantID, a.ID); err != nil {
			return n, err
		}
		if r.alerts != nil {
			r.alerts.WithLabelValues(string(a.Rule)).Inc()
		}
		n++
	}
	return n, nil
}

func (r *Runner) announce(ctx context.Context, a audit.Alert) error {
	r.Logger.Warn("audit alert", "tenant_id", a.TenantID, "alert_id", a.ID, "rule", string(a.Rule), "count", a.Count)
	if a.TenantID == "" {
		return nil // installation-level: the operator sees the metric and the log
	}
	t, err := r.Tenants.ByID(ctx, a.TenantID)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	users, err := r.Accounts.ListUsers(ctx, a.TenantID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if !u.Perms.Has(access.ViewAudit) || u.Status != account.Active || u.Email == "" {
			continue
		}
		lang := r.I18n.Pick(u.Language, "", t.DefaultLanguage)
		text := r.I18n.T(lang, "alert.email.body",
			"company", t.Name, "alert", r.I18n.T(lang, "alert.rule."+string(a.Rule), "count", a.Count),
			"time", a.CreatedAt.UTC().Format("2006-01-02 15:04"), "url", strings.TrimSuffix(r.BaseURL, "/")+"/audit/security")
		err := r.Mailer.Send(ctx, notify.Message{
			To:      []string{u.Email},
			Subject: r.I18n.T(lang, "alert.email.subject", "company", t.Name),
			Text:    text,
			Headers: map[string]string{"Auto-Submitted": "auto-generated"},
		})
		if err != nil {
			if notify.IsPermanent(err) {
				// A bad address must not block every other alert; the log says so, by id.
				r.Logger.Error("alert email refused", "tenant_id", a.TenantID, "user_id", u.ID, "error", err.Error())
				continue
			}
			return err
		}
	}
	return nil
}

// DeliverEmail sends the queued email, returning how many were sent.
func (r *Runner) DeliverEmail(ctx context.Context) (int, error) {
	if r.Queue == nil {
		return 0, nil
	}
	results, err := r.Queue.Deliver(ctx, r.Mailer, r.SMS, 50)
	sent := 0
	for _, d := range results {
		if r.Recruit != nil {
			// The candidate card shows how each email to the candidate went.
			if merr := r.Recruit.MessageDelivered(ctx, d.TenantID, d.ID, d.Err == nil, d.Dropped); merr != nil {
				r.Logger.Warn("message status not recorded", "tenant_id", d.TenantID, "email_id", d.ID, "error", merr.Error())
			}
		}
		switch {
		case d.Err == nil:
			sent++
		case d.Dropped:
			r.Logger.Error("email dropped", "tenant_id", d.TenantID, "email_id", d.ID, "error", d.Err.Error())
		default:
			r.Logger.Warn("email delivery failed; will retry", "tenant_id", d.TenantID, "email_id", d.ID, "error", d.Err.Error())
		}
	}
	return sent, err
}

// DeliverWebhooks makes an attempt at the due webhook deliveries, a batch
// at a time until none is due, and returns how many succeeded.
func (r *Runner) DeliverWebhooks(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.Webhooks.Deliver(ctx, 50)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// ExtractTexts extracts the text of the documents waiting for it, in
// batches, until none waits or ctx ends.
func (r *Runner) ExtractTexts(ctx context.Context) error {
	for {
		n, err := r.Recruit.ExtractTexts(ctx, r.Extractor, 20)
		if err != nil || n == 0 {
			return err
		}
	}
}
