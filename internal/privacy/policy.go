package privacy

import (
	"context"
	"fmt"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/tenant"
)

// SavePolicy changes the company's privacy policy on behalf of actor, who
// needs privacy.settings (tenant.Service.SavePrivacy decides, validates and
// records the change). When the purpose period changed, every candidate's
// processing basis is computed again under the new period, so that a
// shorter period moves basis_until (and with it the expiry list and the
// sweep) for applications already received, and a longer one gives them
// the time the company now allows.
func (s *Service) SavePolicy(ctx context.Context, actor access.Actor, in tenant.Privacy) error {
	if !actor.Can(access.PrivacySettings) {
		return ErrForbidden
	}
	before, err := s.opts.Tenants.ByID(ctx, actor.TenantID)
	if err != nil {
		return fmt.Errorf("read privacy policy: %w", err)
	}
	if err := s.opts.Tenants.SavePrivacy(ctx, actor, in); err != nil {
		return err
	}
	if before.Settings.Privacy.Purpose() == in.Purpose() {
		return nil
	}
	// The change left the recomputation as a task; it is done now, to its
	// end even when the request that asked for it ends first (a crash
	// leaves it to the sweep or the next start). Each batch reads the
	// policy in its own transaction: a save racing this one is followed by
	// whichever refresh runs last.
	if _, err := s.opts.Recruit.BackfillBases(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("refresh processing bases: %w", err)
	}
	return nil
}

// Policy returns the company's privacy policy for its settings page; the
// reader needs privacy.settings.
func (s *Service) Policy(ctx context.Context, actor access.Actor) (tenant.Privacy, error) {
	if !actor.Can(access.PrivacySettings) {
		return tenant.Privacy{}, ErrForbidden
	}
	t, err := s.opts.Tenants.ByID(ctx, actor.TenantID)
	if err != nil {
		return tenant.Privacy{}, fmt.Errorf("read privacy policy: %w", err)
	}
	return t.Settings.Privacy, nil
}
