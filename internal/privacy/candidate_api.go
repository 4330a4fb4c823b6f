package privacy

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/id"
)

// The card names a candidate through one of their applications; the API
// names the candidate. These are the card's actions on a candidate id,
// with the card's rules.

// EraseCandidateByID erases a candidate for a user who holds
// candidates.erase and sees every position (the erasure reaches them all)
// and may see the candidate; a candidate they may not see is ErrNotFound
// (the denial in the security log). Everything held about the candidate
// goes, as EraseCandidate does; the consent log keeps its entries and the
// audit trail a tombstone.
func (s *Service) EraseCandidateByID(ctx context.Context, a access.Actor, candidateID string) error {
	if !a.Can(access.EraseCandidates) || !a.Can(access.AllPositions) {
		return ErrForbidden
	}
	if err := s.seesCandidate(ctx, a, candidateID); err != nil {
		return err
	}
	n, err := s.erase(ctx, a.TenantID, []string{candidateID}, ReasonManual, audit.ActorOf(a), condAlways)
	if err == nil && n == 0 {
		return ErrNotFound // erased meanwhile
	}
	return err
}

// ExportCandidateByID prepares the copy of a candidate's data
// (ExportCandidate's) for a colleague who sees every position or keeps the
// company's privacy, and who may see the candidate (privacy.settings sees
// every candidate of the company). The export is on the GDPR track, as a
// mass action, before the copy is returned.
func (s *Service) ExportCandidateByID(ctx context.Context, a access.Actor, candidateID string) (*Export, error) {
	if !a.Can(access.AllPositions) && !a.Can(access.PrivacySettings) {
		return nil, ErrForbidden
	}
	if err := s.seesCandidate(ctx, a, candidateID); err != nil {
		return nil, err
	}
	d, err := s.gather(ctx, a.TenantID, candidateID)
	if errors.Is(err, ErrSessionEnded) {
		return nil, ErrNotFound // erased meanwhile
	}
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		return s.opts.Audit.Record(ctx, tx, audit.Event{TenantID: a.TenantID, Action: audit.CandidateExported, Actor: audit.ActorOf(a),
			Objects: []audit.Ref{{Kind: "candidate", ID: candidateID}},
			Details: map[string]string{"via": "staff", "count": "1", "files": strconv.Itoa(len(d.Documents))}})
	})
	if err != nil {
		return nil, err
	}
	return &Export{s: s, tenantID: a.TenantID, data: d}, nil
}

// seesCandidate checks that the actor may see the candidate (as the
// consent section does): ErrNotFound for a candidate of no one's or one
// hidden from them, the latter written to the security log.
func (s *Service) seesCandidate(ctx context.Context, a access.Actor, candidateID string) error {
	if !id.Valid(candidateID) {
		return ErrNotFound
	}
	err := s.db.ReadTx(ctx, a.TenantID, func(tx *sql.Tx) error {
		sees, err := consentCandidates(ctx, tx, a, []string{candidateID}, false)
		if err != nil {
			return err
		}
		if !sees[candidateID] {
			return hiddenOrMissing(ctx, tx, a.TenantID, candidateID)
		}
		return nil
	})
	return s.denied(ctx, a, candidateID, err)
}
