package privacy

import (
	"context"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Statement is what the company's privacy notice and its records of
// processing (Art. 13 and 30 GDPR) say, generated from its settings: the
// controller, its contact and business id, the retention of each basis
// of processing, automatic erasure, processors and transfers. The
// purposes, their legal bases and the categories of data are the
// product's own and fixed (the templates name them).
type Statement struct {
	Company            string
	Slug               string
	Contact            string
	RegistrationNumber string
	// PurposeMonths is how long an application is kept for its purpose;
	// ConsentMonths how long a talent-pool consent lasts.
	PurposeMonths   int
	ConsentMonths   int
	ConsentLogYears int
	NoticeMonths    int
	EraseOnArchive  bool
	ErasureApproval bool
	// Processors are the processors the company named, one a line.
	Processors []string
	// Transfers describes transfers outside the EU/EEA ("": none).
	Transfers string
}

// StatementOf is the statement of company t.
func StatementOf(t *tenant.Tenant) Statement {
	p := t.Settings.Privacy
	st := Statement{Company: t.Name, Slug: t.Slug, Contact: t.Settings.PrivacyContact, RegistrationNumber: p.RegistrationNumber,
		PurposeMonths: p.Purpose(), ConsentMonths: p.Consent(), ConsentLogYears: tenant.ConsentLogYears, NoticeMonths: tenant.NoticeMonths,
		EraseOnArchive: p.EraseOnArchive, ErasureApproval: p.ErasureApproval, Transfers: p.Transfers}
	if st.RegistrationNumber == "" {
		st.RegistrationNumber = t.RegistrationNumber
	}
	for _, line := range strings.Split(p.Processors, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			st.Processors = append(st.Processors, line)
		}
	}
	return st
}

// Records are the company's records of processing activities (Art. 30):
// the statement, and how long the audit trail keeps each track.
type Records struct {
	Statement
	// RetentionDays is the audit trail's retention per track, in days.
	RetentionDays map[audit.Track]int
	// Tracks lists the tracks in the trail's order.
	Tracks    []audit.Track
	Generated time.Time
}

// Records returns the company's records of processing for actor
// (privacy.settings).
func (s *Service) Records(ctx context.Context, actor access.Actor) (*Records, error) {
	if !actor.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	t, err := s.opts.Tenants.ByID(ctx, actor.TenantID)
	if err != nil {
		return nil, err
	}
	ret, err := s.opts.Audit.RetentionOf(ctx, actor.TenantID, s.opts.Audit.InstallationRetention())
	if err != nil {
		return nil, err
	}
	out := &Records{Statement: StatementOf(t), RetentionDays: map[audit.Track]int{}, Tracks: audit.Tracks, Generated: s.now()}
	for track, d := range ret {
		out.RetentionDays[track] = int(d / (24 * time.Hour))
	}
	return out, nil
}
