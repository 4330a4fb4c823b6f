// Package whistle is the whistleblowing channel: a company's reporting
// channels, anonymous reports that the server alone cannot read, and the
// handling of each case by the company's case handlers within the EU
// directive's deadlines.
//
// Every report has its own X25519 key pair (internal/whistle/vault). Its
// content, the messages between reporter and handlers, the handlers' notes,
// redacted copies and attachments are sealed to the report's public key, so
// anyone may add to a case but only a holder of its private key reads it.
// That private key is sealed to each assigned case handler's public key and
// under a key derived from the reporter's receipt (argon2id with a pepper the
// master key gives; the receipt itself is never stored, only a keyed hash to
// find the report). A handler's private key is sealed under their password
// and a printed recovery key, and optionally to the company's escrow, whose
// private key exists only as Shamir shares held by custodians. The database,
// the files and the master key together therefore open no report: only a
// handler's password (or recovery key, or enough custodians) or the
// reporter's receipt does. While a handler works, their unlocked key lives in
// a cookie envelope of their session (SealSession), not on the server.
//
// No trace of the reporter: the reporter's side writes no audit record,
// stores days (never times), uses random ids, and keeps no address or user
// agent anywhere; the web layer keeps them out of logs and the limiter.
package whistle

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/keys"
	"github.com/kandidat/kandidat/internal/notify"
)

// Errors of this package.
var (
	// ErrNotFound: no such channel or case the actor may know of.
	ErrNotFound = fault.New(fault.ErrNotFound, "not found", "")
	// ErrForbidden: the actor does not handle cases.
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "")
	// ErrNotRecognised: the receipt and passphrase open no report. The same
	// error whether the receipt exists or not.
	ErrNotRecognised = fault.New(fault.ErrInvalid, "receipt not recognised", "whistle.error.receipt")
	// ErrLocked: the handler's key is not unlocked in this session.
	ErrLocked = fault.New(fault.ErrUnauthenticated, "case key locked", "whistle.error.locked")
	// ErrNoKey: the handler has not enrolled a case key yet.
	ErrNoKey = fault.New(fault.ErrConflict, "no case key", "whistle.error.no_key")
	// ErrWrongPassword: the password, recovery key or shares do not open the handler's key.
	ErrWrongPassword = fault.New(fault.ErrInvalid, "key not opened", "whistle.error.unlock")
	// ErrUnavailable: the channel takes no reports (inactive, or no handler has a key).
	ErrUnavailable = fault.New(fault.ErrNotFound, "channel unavailable", "whistle.error.unavailable")
	// ErrTooManyFiles: a report holds MaxAttachments already.
	ErrTooManyFiles = fault.New(fault.ErrInsufficient, "too many attachments", "whistle.error.too_many_files")
	// ErrState: the case's status does not allow this.
	ErrState = fault.New(fault.ErrConflict, "not in this status", "whistle.error.state")
	// ErrStale: the case changed since the handler read it.
	ErrStale = fault.New(fault.ErrStale, "changed meanwhile", "whistle.error.stale")
)

// Limits.
const (
	// MaxAttachments per report, over all its messages.
	MaxAttachments = 20
	// MaxAttachmentBytes is one file's limit.
	MaxAttachmentBytes = 25 << 20
	// MaxTextBytes bounds one text (a report's description, a message, a note).
	MaxTextBytes = 64 << 10
	// MaxChannels per company.
	MaxChannels = 50
	// MaxFailedUnlocks a report admits in one day (wrong passphrases).
	MaxFailedUnlocks = 10
	// AckDays is the directive's acknowledgement deadline (Art. 9(1)(b)).
	AckDays = 7
	// FeedbackMonths is the directive's feedback deadline (Art. 9(1)(f)).
	FeedbackMonths = 3
	// ReporterSession is how long a reporter's opened case stays open without a request.
	ReporterSession = 30 * time.Minute
	// HandlerSession is how long a handler's unlocked key stays unlocked without a request.
	HandlerSession = time.Hour
)

// Statuses of a case, in their order.
const (
	Received      = "received"
	Acknowledged  = "acknowledged"
	Investigating = "investigating"
	Concluded     = "concluded"
	Closed        = "closed"
)

// Statuses lists the statuses in order.
var Statuses = []string{Received, Acknowledged, Investigating, Concluded, Closed}

// Outcomes a concluded or closed case may have.
var Outcomes = []string{"substantiated", "partly_substantiated", "not_substantiated", "no_action", "referred", "withdrawn"}

// Options are what the service needs beyond the database.
type Options struct {
	Audit  *audit.Log
	Blobs  *blob.Store
	Queue  *notify.Queue
	I18n   *i18n.Bundle
	Master *keys.MasterKey
	// BaseURL starts every link in an email.
	BaseURL string
	Logger  *slog.Logger
	// MayHandle tells whether a user of a company holds cases.handle now
	// (their role resolved by the account service); a channel routes only
	// to such users. Nil accepts every active user (tests).
	MayHandle func(ctx context.Context, tenantID, userID string) (bool, error)
}

// Service is the whistleblowing channel.
type Service struct {
	db     *db.DB
	o      Options
	now    func() time.Time
	pepper []byte // receipt key pepper
	lookup []byte // receipt lookup key
	sess   []byte // reporter and handler session envelopes
	sign   ed25519.PrivateKey
}

// NewService returns the whistleblowing service.
func NewService(d *db.DB, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: d, o: o, now: time.Now}
	s.pepper = o.Master.DeriveKey("whistle-receipt-pepper")
	s.lookup = o.Master.DeriveKey("whistle-receipt-lookup")
	s.sess = o.Master.DeriveKey("whistle-session")
	s.sign = ed25519.NewKeyFromSeed(o.Master.DeriveKey("whistle-archive-signing"))
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ArchiveSigningKey is the public key that verifies archive bundles.
func (s *Service) ArchiveSigningKey() ed25519.PublicKey { return s.sign.Public().(ed25519.PublicKey) }

// randomID is a random identifier shaped like a UUID (version 4): ids of the
// reporter's side carry no time.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
