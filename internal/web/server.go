// Package web is Kandidat's HTTP face: every route (routes.go), the
// middleware chain, the HTML handlers over the domain services, templates,
// static assets and health and metrics endpoints. Handlers parse input, call
// a service and render; they hold no business rules.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/importer"
	"github.com/kandidat/kandidat/internal/privacy"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/webhook"
	"github.com/kandidat/kandidat/internal/whistle"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are the settings of the web layer.
type Options struct {
	// TLS says the browser reaches us over HTTPS (directly or through a
	// trusted proxy): HSTS is sent.
	TLS bool
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
	MaxBodyBytes   int64
	// MetricsToken, when set, opens /metrics on the main handler to bearers of it.
	MetricsToken string
	// OutboxDir, set in development mode, is shown at /dev/outbox.
	OutboxDir string
	// APIRateToken and APIRateIP bound the API requests per minute of a
	// token and of an address (0: no bound).
	APIRateToken, APIRateIP int
	// CursorKey signs the API's page cursors (every instance must share it;
	// the application derives it from the master key). Without one, a
	// random key of this process is used.
	CursorKey []byte
}

// Deps are the services the web layer calls.
type Deps struct {
	Accounts *account.Service
	Tenants  *tenant.Service
	Audit    *audit.Log
	Recruit  *recruit.Service
	Privacy  *privacy.Service
	Credits  *credit.Service
	// Importer brings candidates from another system's files (the import page).
	Importer *importer.Service
	// Webhooks is the companies' webhook subscriptions and delivery log.
	Webhooks *webhook.Service
	// Whistle is the whistleblowing channel.
	Whistle *whistle.Service
	I18n    *i18n.Bundle
	Logger  *slog.Logger
	// Ready reports whether the application can serve: database reachable, schema current.
	Ready func(ctx context.Context) error
	// Registry receives the HTTP metrics; nil makes a private one.
	Registry *prometheus.Registry
	// Backups reports the installation's backups and point-in-time window
	// for the operator page (nil: the page says none are configured).
	Backups BackupStatus
}

// Server is the web layer.
type Server struct {
	Deps
	opts     Options
	pages    map[string]*template.Template
	static   fs.FS
	metrics  *httpMetrics
	draining atomic.Bool
	// applyLimit bounds applications per address and company on the career page.
	applyLimit *applyLimit
	// apiLimits bounds API requests per address and token.
	apiLimits *apiLimiter
	// reportLimit bounds the reporter's submissions and follow-up attempts.
	reportLimit *reportLimiter
	cursorKey   []byte
	apiDoc      apiDocCache
}

// New parses every template (failing fast on an error) and returns a Server.
func New(deps Deps, opts Options) (*Server, error) {
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	s := &Server{Deps: deps, opts: opts, applyLimit: &applyLimit{now: time.Now}, apiLimits: newAPILimiter(), reportLimit: newReportLimiter(), cursorKey: opts.CursorKey}
	if len(s.cursorKey) == 0 {
		s.cursorKey = []byte(randomString(32))
	}
	var err error
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	if s.static, err = fs.Sub(staticFS, "static"); err != nil {
		return nil, err
	}
	if s.metrics, err = newHTTPMetrics(deps.Registry); err != nil {
		return nil, err
	}
	return s, nil
}

func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		pages[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return pages, nil
}

// fieldArgs feeds the shared "field" template: one labelled input with its error.
type fieldArgs struct {
	P                        *page
	Name, Type, Autocomplete string
}

// passwordArgs feeds the shared "new-password" template: a new password
// (in the field Name) and its confirmation, with their labels' keys.
type passwordArgs struct {
	P                         *page
	Name, Label, ConfirmLabel string
}

var templateFuncs = template.FuncMap{
	"browser": browserName,
	"newPassword": func(p *page, name, label, confirmLabel string) passwordArgs {
		return passwordArgs{P: p, Name: name, Label: label, ConfirmLabel: confirmLabel}
	},
	"args": func(p *page, name, typ, autocomplete string) fieldArgs {
		return fieldArgs{P: p, Name: name, Type: typ, Autocomplete: autocomplete}
	},
	"filesize": fileSize,
	"markdown": renderMarkdown,
}

// fileSize writes a byte count for people: 850 B, 12 kB, 3.4 MB.
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d kB", (n+500)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// Drain makes /readyz fail, so a load balancer stops sending new requests
// while the in-flight ones finish.
func (s *Server) Drain() { s.draining.Store(true) }

// Handler returns the application handler with its middleware.
func (s *Server) Handler() http.Handler {
	return s.middleware(s.routes())
}

// AdminHandler serves /metrics, /healthz and /readyz on the separate admin address.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metricsHandler())
	// The operator's page of backups: the admin address is the operator's
	// (bind it to loopback or a management network).
	mux.Handle("GET /backups", s.middleware(http.HandlerFunc(s.handleBackups)))
	return mux
}

// ServerTimeouts are the HTTP server's limits against slow clients.
var ServerTimeouts = struct {
	ReadHeader, Read, Write, Idle time.Duration
}{10 * time.Second, 60 * time.Second, 60 * time.Second, 120 * time.Second}
