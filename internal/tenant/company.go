package tenant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
)

// ErrForbidden is returned when the actor may not change that part of the
// company's settings.
var ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "")

// Profile is the company as candidates and colleagues see it: its name,
// language and time zone, the privacy contact and the career page's
// colour. Holders of company.profile (HR managers, administrators) keep it.
type Profile struct {
	Name            string
	DefaultLanguage string
	TimeZone        string
	PrivacyContact  string
	CareerColour    string
}

// Security is how the company's users sign in and what is watched and
// kept: the password profile, who must use a second factor, the session
// timeouts, the alert thresholds and the audit trail's retention, with the
// publication allowance. Holders of company.settings (administrators) keep it.
type Security struct {
	PasswordProfile string
	RequireMFA      bool
	RequireMFARoles []string
	// SessionIdle and SessionAbsolute: 0 is the installation's timeout.
	SessionIdle, SessionAbsolute time.Duration
	FreePublications             *int
	PublicationCost              *int
	// Alerts are the company's own alert thresholds; nil: the installation's.
	Alerts *audit.Rules
	// Retention is the company's own retention per track, in days; a track
	// absent or 0 follows the installation's.
	Retention map[audit.Track]int
}

// Profile returns the profile part of the company.
func (t *Tenant) Profile() Profile {
	return Profile{Name: t.Name, DefaultLanguage: t.DefaultLanguage, TimeZone: t.Settings.TimeZone,
		PrivacyContact: t.Settings.PrivacyContact, CareerColour: t.Settings.CareerColour}
}

// Validate checks a profile, every field at once.
func (in Profile) Validate() error {
	fields := map[string]string{}
	if !validName(strings.TrimSpace(in.Name)) {
		fields["name"] = "error.company_name"
	}
	if !slices.Contains(Languages, in.DefaultLanguage) {
		fields["default_language"] = "error.language"
	}
	Settings{TimeZone: in.TimeZone, PrivacyContact: in.PrivacyContact, CareerColour: in.CareerColour}.validateProfile(fields)
	return fieldsError(fields)
}

// Validate checks the security settings, every field at once.
func (in Security) Validate() error {
	fields := map[string]string{}
	st := Settings{PasswordProfile: in.PasswordProfile, RequireMFARoles: in.RequireMFARoles,
		FreePublications: in.FreePublications, PublicationCost: in.PublicationCost,
		SessionIdle: in.SessionIdle, SessionAbsolute: in.SessionAbsolute}
	st.validate(fields)
	if in.Alerts != nil {
		switch in.Alerts.Check() {
		case "failed_sign_ins":
			fields["alert_failed_sign_ins"] = "error.alert_failed_sign_ins"
		case "failed_sign_in_window":
			fields["alert_failed_sign_in_window"] = "error.alert_failed_sign_in_window"
		case "mass_count":
			fields["alert_mass_count"] = "error.alert_mass_count"
		}
	}
	for t, days := range in.Retention {
		if days == 0 {
			continue
		}
		if audit.CheckRetention(t, time.Duration(days)*24*time.Hour) != nil || days > maxRetentionDays {
			fields["retention_"+string(t)] = "error.retention"
		}
	}
	return fieldsError(fields)
}

func fieldsError(fields map[string]string) error {
	if len(fields) > 0 {
		return &fault.Invalid{Fields: fields}
	}
	return nil
}

// SaveProfile changes the company's profile on behalf of a, who needs
// company.profile. The trail records which fields changed, never their values.
func (s *Service) SaveProfile(ctx context.Context, a access.Actor, in Profile) error {
	if !a.Can(access.CompanyProfile) {
		return ErrForbidden
	}
	in.Name = strings.TrimSpace(in.Name)
	in.PrivacyContact = strings.TrimSpace(in.PrivacyContact)
	in.CareerColour = strings.ToLower(strings.TrimSpace(in.CareerColour))
	if err := in.Validate(); err != nil {
		return err
	}
	return s.change(ctx, a, func(t *Tenant) []string {
		old := t.Profile()
		t.Name, t.DefaultLanguage = in.Name, in.DefaultLanguage
		t.Settings.TimeZone, t.Settings.PrivacyContact, t.Settings.CareerColour = in.TimeZone, in.PrivacyContact, in.CareerColour
		return differing(map[string]bool{
			"name": old.Name != in.Name, "default_language": old.DefaultLanguage != in.DefaultLanguage,
			"time_zone": old.TimeZone != in.TimeZone, "privacy_contact": old.PrivacyContact != in.PrivacyContact,
			"career_colour": old.CareerColour != in.CareerColour,
		})
	}, nil)
}

// SaveSecurity changes the company's security settings on behalf of a,
// who needs company.settings: the settings, the alert thresholds and the
// retention in one transaction, which records what changed.
func (s *Service) SaveSecurity(ctx context.Context, a access.Actor, in Security) error {
	if !a.Can(access.CompanySettings) {
		return ErrForbidden
	}
	if err := in.Validate(); err != nil {
		return err
	}
	return s.change(ctx, a, func(t *Tenant) []string {
		old := t.Settings
		st := &t.Settings
		st.PasswordProfile, st.RequireMFA, st.RequireMFARoles = in.PasswordProfile, in.RequireMFA, in.RequireMFARoles
		st.SessionIdle, st.SessionAbsolute = in.SessionIdle, in.SessionAbsolute
		st.FreePublications, st.PublicationCost = in.FreePublications, in.PublicationCost
		return differing(map[string]bool{
			"password_profile":  old.PasswordProfile != st.PasswordProfile,
			"require_mfa":       old.RequireMFA != st.RequireMFA,
			"require_mfa_roles": !sameSet(old.RequireMFARoles, st.RequireMFARoles),
			"free_publications": old.FreePublicationsPerMonth() != st.FreePublicationsPerMonth(),
			"publication_cost":  old.PublicationCredits() != st.PublicationCredits(),
			"session_idle":      old.SessionIdle != st.SessionIdle,
			"session_absolute":  old.SessionAbsolute != st.SessionAbsolute,
		})
	}, func(tx *sql.Tx, changed []string) ([]string, error) {
		oldRules, own, err := s.audit.RulesTx(ctx, tx, a.TenantID)
		if err != nil {
			return nil, err
		}
		if own != (in.Alerts != nil) || (in.Alerts != nil && oldRules != *in.Alerts) {
			changed = append(changed, "alerts")
		}
		if err := s.audit.SetRulesTx(ctx, tx, a.TenantID, in.Alerts); err != nil {
			return nil, err
		}
		oldRet, err := s.audit.OwnRetentionTx(ctx, tx, a.TenantID)
		if err != nil {
			return nil, err
		}
		next := map[audit.Track]int{}
		for t := range audit.MinRetention {
			next[t] = in.Retention[t]
		}
		if !maps.Equal(oldRet, nonZero(next)) {
			changed = append(changed, "retention")
		}
		return changed, s.audit.SetRetentionTx(ctx, tx, a.TenantID, next)
	})
}

func nonZero(m map[audit.Track]int) map[audit.Track]int {
	out := map[audit.Track]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// differing lists the names marked true, in a stable order.
func differing(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// change reads the company in a transaction of its own, lets edit change
// it (returning the fields it changed), writes it back, runs more (for
// what lives in other tables) and records the change.
func (s *Service) change(ctx context.Context, a access.Actor, edit func(*Tenant) []string,
	more func(tx *sql.Tx, changed []string) ([]string, error)) error {
	return s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		t, err := scanTenant(tx.QueryRowContext(ctx, selectTenant+` WHERE id = $1`, a.TenantID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read company: %w", err)
		}
		changed := edit(t)
		b, _ := json.Marshal(t.Settings)
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = $2, default_language = $3, settings = $4,
			session_idle_seconds = $5, session_absolute_seconds = $6, updated_at = $7 WHERE id = $1`,
			a.TenantID, t.Name, t.DefaultLanguage, string(b), seconds(t.Settings.SessionIdle), seconds(t.Settings.SessionAbsolute), db.Now()); err != nil {
			return fmt.Errorf("update company: %w", err)
		}
		if more != nil {
			if changed, err = more(tx, changed); err != nil {
				return err
			}
		}
		slices.Sort(changed)
		return s.audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.TenantSettingsChanged, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "tenant", ID: a.TenantID}},
			Details: map[string]string{"password_profile": t.Settings.PasswordProfile, "require_mfa": strconv.FormatBool(t.Settings.RequireMFA),
				"fields": strings.Join(changed, ",")}})
	})
}

// seconds is a duration as the column keeps it: NULL for 0.
func seconds(d time.Duration) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(d / time.Second), Valid: d > 0}
}
