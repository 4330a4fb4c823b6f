// Package webhook tells a company's other systems about its business
// events: subscriptions of URLs to event types, the events themselves
// (read from the audit trail, so that each is exactly a committed change
// and no service has to know about webhooks), signed deliveries retried
// with backoff by the jobs runner, their log, and the refusal of private,
// loopback and link-local addresses at connection time (SSRF).
//
// A payload carries ids and non-personal details only ({id, type,
// occurred_at, company, data}); the receiver reads the rest through the
// API with a token whose scopes say what it may see.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/keys"
)

// The event types. A subscription chooses among Subscribable.
const (
	ApplicationCreated      = "application.created"
	ApplicationStageChanged = "application.stage_changed"
	ApplicationRejected     = "application.rejected"
	CandidateErased         = "candidate.erased"
	ConsentExpiring         = "consent.expiring"
	// CaseAcknowledged: a whistleblowing case's receipt was acknowledged
	// (data: case, channel).
	CaseAcknowledged = "case.acknowledged"
)

// EventTypes lists every event type, in the order forms show them. It is
// audit.WebhookEventTypes, which keeps the trail's details closed.
var EventTypes = audit.WebhookEventTypes

// Errors of this package.
var (
	// ErrNotFound: no such subscription or delivery in the actor's company.
	ErrNotFound = fault.New(fault.ErrNotFound, "webhook not found", "")
	// ErrForbidden: the actor may not manage webhooks (api.tokens).
	ErrForbidden = fault.New(fault.ErrForbidden, "not permitted", "")
	// ErrNotReplayable: the delivery still waits for its next attempt.
	ErrNotReplayable = fault.New(fault.ErrConflict, "delivery still pending", "webhook.error.pending")
	// ErrTooMany: the company has MaxSubscriptions already.
	ErrTooMany = fault.New(fault.ErrInsufficient, "too many webhook subscriptions", "webhook.error.too_many")
)

// MaxSubscriptions bounds a company's subscriptions.
const MaxSubscriptions = 25

// Delivery timing.
const (
	// Timeout bounds one attempt: connection, request and response.
	Timeout = 10 * time.Second
	// MaxAttempts is how many times a delivery is tried before it fails.
	MaxAttempts = 8
	// MaxResponseBytes of a receiver's answer are read (and never kept).
	MaxResponseBytes = 64 << 10
	// ReplayWindow is how old a signature's timestamp a receiver should
	// accept (docs/webhooks.md).
	ReplayWindow = 5 * time.Minute
	// claimFor is how long an attempt holds its delivery.
	claimFor = time.Minute
	// KeepDeliveries is how long the log keeps finished deliveries.
	KeepDeliveries = 30 * 24 * time.Hour
)

// backoff is the wait after the nth failed attempt (1-based), before jitter.
var backoff = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// Options are what the service needs beyond the database.
type Options struct {
	Audit *audit.Log
	Keys  *keys.Keyring
	// AllowPrivate lets subscriptions and deliveries reach loopback,
	// private and link-local addresses, and plain http (the operator's
	// --webhook-allow-private, for development).
	AllowPrivate bool
	// LookupIP resolves a host at subscription time (default: the system
	// resolver); deliveries check the address they connect to regardless.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// Logger receives delivery failures (by id only).
	Logger *slog.Logger
}

// Service manages subscriptions and delivers events.
type Service struct {
	db     *db.DB
	opts   Options
	now    func() time.Time
	client *httpClient
}

// NewService returns the webhook service.
func NewService(d *db.DB, opts Options) *Service {
	if opts.LookupIP == nil {
		opts.LookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, opts: opts, now: db.Now, client: newHTTPClient(opts.AllowPrivate)}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = func() time.Time { return db.Time(now()) } }

// Subscription is a company's subscription of a URL to event types.
type Subscription struct {
	TenantID    string
	ID          string
	URL         string
	Description string
	Events      []string
	Active      bool
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Wants reports whether the subscription takes events of type t.
func (s *Subscription) Wants(t string) bool { return s.Active && slices.Contains(s.Events, t) }

// Input is a subscription as a form or the API gives it.
type Input struct {
	URL         string
	Description string
	Events      []string
	Active      bool
}

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Delivery is one event sent (or to send) to one subscription, as the
// log shows it: never the receiver's answer, only its status code and a
// short class of error.
type Delivery struct {
	TenantID       string
	ID             string
	SubscriptionID string
	EventID        string
	EventType      string
	Payload        string
	Status         string
	Attempts       int
	NextTryAt      time.Time // zero when delivered or failed
	LastAttemptAt  time.Time // zero before the first attempt
	LastStatus     int       // HTTP status of the last attempt (0: none)
	LastError      string    // an error class: timeout, refused_address, connection, tls, status, redirect, dns
	CreatedAt      time.Time
}

// Page is a page of the delivery log: newest first, after the delivery
// After ("" for the first page).
type Page struct {
	After string
	Limit int
}

// newSecret returns a signing secret: "whsec_" and 256 random bits.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// secretField binds a subscription's encrypted secret to its row.
func secretField(subID string) keys.Field {
	return keys.Field{Table: "webhook_subscriptions", Column: "secret", Row: subID}
}

// hostOf is the URL's host without port or brackets.
func hostOf(u *url.URL) string { return u.Hostname() }
