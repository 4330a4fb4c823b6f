package tenant

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/db"
)

// Privacy is a company's privacy policy: how long each processing basis
// of a candidate's data lasts, when data is erased without anyone asking,
// and what the company's privacy notice and records of processing say.
// The zero value is the installation's default, which the law allows
// everywhere: six months from an application, two years of consent.
type Privacy struct {
	// PurposeMonths is how long an application is kept for its purpose,
	// counted from its receipt (0: MaxPurposeMonths).
	PurposeMonths int `json:"purpose_months,omitempty"`
	// ConsentMonths is how long a talent-pool consent lasts from its grant
	// (0: DefaultConsentMonths). A consent keeps the validity its text
	// promised when the company changes this later.
	ConsentMonths int `json:"consent_months,omitempty"`
	// EraseOnArchive erases, once a position is archived, the candidates
	// whose every application was to archived positions and who have no
	// valid consent.
	EraseOnArchive bool `json:"erase_on_archive,omitempty"`
	// ErasureApproval makes a candidate's own request for erasure wait
	// for the company's approval instead of acting at once.
	ErasureApproval bool `json:"erasure_approval,omitempty"`
	// RegistrationNumber is the company's business id, written with every
	// entry of the consent log.
	RegistrationNumber string `json:"registration_number,omitempty"`
	// Processors are the processors the company uses, one per line
	// ("name, what they do, where"), for the records of processing.
	Processors string `json:"processors,omitempty"`
	// Transfers describes transfers outside the EU/EEA and their
	// safeguards ("": none).
	Transfers string `json:"transfers,omitempty"`
}

// Limits of the processing bases.
const (
	// MaxPurposeMonths is the longest an application's purpose lasts.
	MaxPurposeMonths = 6
	// MaxConsentMonths is the longest validity of a consent (three years).
	MaxConsentMonths = 36
	// DefaultConsentMonths is the validity of a consent unless the company chooses.
	DefaultConsentMonths = 24
	// NoticeMonths is how long before a basis ends recruiters are told.
	NoticeMonths = 2
	// ConsentLogYears is how long the consent log keeps an entry.
	ConsentLogYears = 10
	// maxPolicyText bounds the free-text fields of the policy.
	maxPolicyText = 4000
)

// Purpose is the number of months an application's purpose lasts.
func (p Privacy) Purpose() int {
	if p.PurposeMonths <= 0 || p.PurposeMonths > MaxPurposeMonths {
		return MaxPurposeMonths
	}
	return p.PurposeMonths
}

// Consent is the number of months a consent granted now lasts.
func (p Privacy) Consent() int {
	if p.ConsentMonths <= 0 || p.ConsentMonths > MaxConsentMonths {
		return DefaultConsentMonths
	}
	return p.ConsentMonths
}

// Validate checks the policy, every field at once.
func (p Privacy) Validate() error {
	fields := map[string]string{}
	if p.PurposeMonths < 0 || p.PurposeMonths > MaxPurposeMonths {
		fields["purpose_months"] = "error.purpose_months"
	}
	if p.ConsentMonths < 0 || p.ConsentMonths > MaxConsentMonths {
		fields["consent_months"] = "error.consent_months"
	}
	for name, v := range map[string]string{"registration_number": p.RegistrationNumber, "processors": p.Processors, "transfers": p.Transfers} {
		if !utf8.ValidString(v) || len(v) > maxPolicyText || (name == "registration_number" && (len(v) > 64 || hasControl(v))) {
			fields[name] = "error.text"
		}
	}
	return fieldsError(fields)
}

// SavePrivacy changes the company's privacy policy on behalf of a, who
// needs privacy.settings. The trail records which fields changed. A
// shorter purpose applies to applications already received: the caller
// recomputes the candidates' bases (privacy.Service.SavePolicy does).
func (s *Service) SavePrivacy(ctx context.Context, a access.Actor, in Privacy) error {
	if !a.Can(access.PrivacySettings) {
		return ErrForbidden
	}
	in.RegistrationNumber = strings.TrimSpace(in.RegistrationNumber)
	in.Processors = strings.TrimSpace(strings.ReplaceAll(in.Processors, "\r\n", "\n"))
	in.Transfers = strings.TrimSpace(strings.ReplaceAll(in.Transfers, "\r\n", "\n"))
	if err := in.Validate(); err != nil {
		return err
	}
	return s.change(ctx, a, func(t *Tenant) []string {
		old := t.Settings.Privacy
		t.Settings.Privacy = in
		return differing(map[string]bool{
			"purpose_months":      old.Purpose() != in.Purpose(),
			"consent_months":      old.Consent() != in.Consent(),
			"erase_on_archive":    old.EraseOnArchive != in.EraseOnArchive,
			"erasure_approval":    old.ErasureApproval != in.ErasureApproval,
			"registration_number": old.RegistrationNumber != in.RegistrationNumber,
			"processors":          old.Processors != in.Processors,
			"transfers":           old.Transfers != in.Transfers,
		})
	}, func(tx *sql.Tx, changed []string) ([]string, error) {
		if slices.Contains(changed, "purpose_months") {
			// Every candidate's basis follows the new period: a task kept
			// with the change, so that a crash or a timeout of the
			// recomputation leaves it to the next run (recruit.BackfillBases).
			if _, err := tx.ExecContext(ctx, `INSERT INTO pending_backfills (name, created_at) VALUES ($1, $2)
				ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at`, PendingBases+a.TenantID, db.Now()); err != nil {
				return nil, fmt.Errorf("record the recomputation of bases: %w", err)
			}
		}
		return changed, nil
	})
}

// PendingBases prefixes the company id in the name of the task of
// recomputing its candidates' bases (in pending_backfills).
const PendingBases = "privacy_bases:"

// AddMonths returns t moved by n months on the calendar of loc, keeping the
// local time of day. A day the target month lacks is its last day: the
// 31st of August plus six months is the 28th (or 29th) of February, never
// the 2nd or 3rd of March. A wall time a clock change skips is moved on as
// time.Date moves it. The result is in UTC.
func AddMonths(t time.Time, n int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	y, m, d := l.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
	if last := daysIn(first.Year(), first.Month()); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc).UTC()
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Location returns the company's time zone (UTC if it cannot be loaded).
func (t *Tenant) Location() *time.Location {
	loc, err := time.LoadLocation(t.Zone())
	if err != nil {
		return time.UTC
	}
	return loc
}
