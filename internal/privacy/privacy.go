// Package privacy is the GDPR engine: the processing bases on which a
// candidate's data is kept (recruit/basis.go computes them), consents and
// their log, the erasure of candidates (by hand, at their request, and by
// the daily sweep when no basis is left) with its ledger outside the
// database, data subjects' requests, the breach register and the records
// of processing. It builds on recruit and audit (never the other way).
package privacy

import (
	"log/slog"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// Errors of this package.
var (
	// ErrNotFound: no such object in the actor's company, or one they may not know exists.
	ErrNotFound = fault.New(fault.ErrNotFound, "not found", "")
	// ErrForbidden: the actor may not do this.
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "")
)

// Options are what the service needs beyond the database.
type Options struct {
	Audit   *audit.Log
	Recruit *recruit.Service
	Tenants *tenant.Service
	// Blobs is the file store the candidates' documents are in.
	Blobs *blob.Store
	// Queue is the outgoing email (consent requests, self-service links).
	Queue *notify.Queue
	I18n  *i18n.Bundle
	// BaseURL starts every link in an email.
	BaseURL string
	// Ledger is the erasure ledger outside the database ("" keeps none:
	// tests and tools that only read).
	Ledger string
	// OutboxDir is the development outbox whose messages to an erased
	// candidate go with them ("": none, mail goes out by SMTP).
	OutboxDir string
	// Logger receives failures of the work after an erasure (by id only).
	Logger *slog.Logger
}

// Service is the privacy engine.
type Service struct {
	db   *db.DB
	opts Options
	now  func() time.Time
}

// NewService returns the privacy engine.
func NewService(d *db.DB, opts Options) *Service {
	return &Service{db: d, opts: opts, now: db.Now}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }
