package privacy

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// The weekly digest of expiry notices: once an ISO week of the company's
// calendar, each active user who holds privacy.settings (the company's
// count) and each owner of positions (the count of their positions'
// candidates) is emailed how many candidates' bases end within the notice
// period, with a link to the list (/privacy/expiring). The email names no
// candidate: names in a mailbox are personal data out of the company's
// hands, and the list behind the link shows them to those who may see
// them. The week is spent for a user with nothing to be told too (no
// email): the counts are taken once a week, not every hour.

// digestFrom is when a week's digest is due: Monday at this hour, on the
// company's clock (not at midnight); any later hour of the week too.
const digestFrom = 7

// digestKeep is how long the record of a sent digest is kept.
const digestKeep = 8 * 7 * 24 * time.Hour

// UserLister lists a company's users with their rights
// ((*account.Service).ListUsers).
type UserLister func(ctx context.Context, tenantID string) ([]*account.User, error)

// Week is the ISO week of t on the calendar of loc, as "2026-W49".
func Week(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// SendDigests queues this week's digest of every company whose week has
// come, for the users who have something to be told and were not told
// this week. A user's digest is spent by a conditional insert into
// privacy_digests in the transaction that queues the email, so runs at
// once (two instances) send one. It returns how many were queued.
func (s *Service) SendDigests(ctx context.Context, users UserLister) (int, error) {
	tenants, err := s.tenants(ctx, "")
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, t := range tenants {
		n, err := s.sendDigest(ctx, t, users)
		sent += n
		if err != nil {
			return sent, fmt.Errorf("digest of company %s: %w", t, err)
		}
	}
	return sent, nil
}

func (s *Service) sendDigest(ctx context.Context, tenantID string, users UserLister) (int, error) {
	now := s.now().UTC()
	var company tenant.Tenant
	var settings string
	if err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT name, default_language, settings FROM tenants WHERE id = $1`, tenantID).
			Scan(&company.Name, &company.DefaultLanguage, &settings)
	}); err != nil {
		return 0, fmt.Errorf("read company: %w", err)
	}
	company.Settings = tenant.ParseSettings(settings)
	loc := company.Location()
	if local := now.In(loc); local.Weekday() == time.Monday && local.Hour() < digestFrom {
		return 0, nil
	}
	week := Week(now, loc)
	list, err := users(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	var eligible []*account.User
	for _, u := range list {
		if u.Status == account.Active && u.Email != "" && (u.Perms.Has(access.PrivacySettings) || u.Perms.Has(access.ViewApplications)) {
			eligible = append(eligible, u)
		}
	}
	if len(eligible) == 0 {
		return 0, nil
	}
	// The counts are taken in a read transaction of their own, so that the
	// company's writers do not wait for them (at 100,000 candidates, all
	// expiring, they take seconds); the week is spent below, in the
	// transaction that queues the emails.
	var total int
	var byOwner map[string]int
	counted := false
	if err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM privacy_digests WHERE tenant_id = $1 AND week = $2`, tenantID, week).Scan(&n); err != nil {
			return fmt.Errorf("read the week's digests: %w", err)
		}
		if n >= len(eligible) {
			return nil
		}
		var err error
		total, byOwner, err = recruit.ExpiringCounts(ctx, tx, tenantID, recruit.NoticeHorizon(now, loc))
		counted = err == nil
		return err
	}); err != nil || !counted {
		return 0, err
	}
	sent := 0
	err = s.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		sent = 0
		// Those whose week is done are skipped before anything is counted:
		// the hourly runs after the first cost one indexed read.
		rows, err := tx.QueryContext(ctx, `SELECT user_id FROM privacy_digests WHERE tenant_id = $1 AND week = $2`, tenantID, week)
		if err != nil {
			return fmt.Errorf("read the week's digests: %w", err)
		}
		done := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			done[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(done) >= len(eligible) {
			return nil
		}
		for _, u := range eligible {
			if done[u.ID] {
				continue
			}
			// The week is spent for whoever has nothing to be told as well:
			// a count is not taken again until next week.
			res, err := tx.ExecContext(ctx, `INSERT INTO privacy_digests (tenant_id, user_id, week, sent_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (tenant_id, user_id, week) DO NOTHING`, tenantID, u.ID, week, now)
			if err != nil {
				return fmt.Errorf("spend the digest: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				continue // another run spent it a moment ago
			}
			all, own := 0, 0
			if u.Perms.Has(access.PrivacySettings) {
				all = total
			}
			if u.Perms.Has(access.ViewApplications) {
				own = byOwner[u.ID]
			}
			if all == 0 && own == 0 {
				continue
			}
			if err := s.opts.Queue.Enqueue(ctx, tx, tenantID, s.digestEmail(&company, u, all, own)); err != nil {
				return err
			}
			sent++
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM privacy_digests WHERE tenant_id = $1 AND sent_at < $2`, tenantID, now.Add(-digestKeep))
		return err
	})
	return sent, err
}

// digestEmail is the digest of a user: the company's count when they hold
// privacy.settings (all > 0), that of their positions' candidates when they
// own some (own > 0); no names.
func (s *Service) digestEmail(t *tenant.Tenant, u *account.User, all, own int) notify.Message {
	b := s.opts.I18n
	lang := b.Pick(u.Language, "", t.DefaultLanguage)
	text := b.T(lang, "privacy.digest.email.intro", "company", t.Name) + "\n\n"
	if all > 0 {
		text += b.N(lang, "privacy.digest.email.company", all) + "\n"
	}
	if own > 0 {
		text += b.N(lang, "privacy.digest.email.own", own) + "\n"
	}
	text += "\n" + b.T(lang, "privacy.digest.email.action", "url", s.opts.BaseURL+"/privacy/expiring") + "\n"
	return notify.Message{
		To:      []string{u.Email},
		Subject: b.N(lang, "privacy.digest.email.subject", max(all, own), "company", t.Name),
		Text:    text,
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
}
