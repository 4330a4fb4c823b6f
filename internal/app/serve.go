package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/kandidat/kandidat/internal/backup/pitr"
	"github.com/kandidat/kandidat/internal/web"
)

// ServeOptions tune Serve for tests.
type ServeOptions struct {
	// Out receives the messages for the operator (the URL, the demo password).
	Out io.Writer
	// Ready is called with the base URL once every listener accepts connections.
	Ready func(baseURL string)
	// ACMEHTTPClient replaces the client that talks to the ACME server (tests with Pebble).
	ACMEHTTPClient *http.Client
	// AlertInterval replaces how often new audit alerts are announced (tests).
	AlertInterval time.Duration
}

// Serve runs the server until ctx ends, then shuts down gracefully:
// readiness fails, in-flight requests finish, then the caller closes the database.
func (a *App) Serve(ctx context.Context, o ServeOptions) error {
	cfg := a.Config
	if o.Out == nil {
		o.Out = io.Discard
	}
	unlock, err := lockShared(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	w, err := a.Web()
	if err != nil {
		return err
	}
	cleanStaging(cfg)
	tlsConfig, acmeManager, err := a.tlsConfig(o.ACMEHTTPClient)
	if err != nil {
		return err
	}
	ln, err := listen("--addr", cfg.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	baseURL := strings.TrimSuffix(cfg.BaseURL, "/")
	if baseURL == "" {
		host := ln.Addr().String()
		if cfg.ACMEDomain != "" {
			_, port, _ := net.SplitHostPort(host)
			host = cfg.ACMEDomain
			if port != "443" {
				host = net.JoinHostPort(host, port)
			}
		}
		baseURL = scheme + "://" + host
	}
	if cfg.BaseURL == "" { // every email link is absolute, whatever service writes it
		a.Accounts.SetBaseURL(baseURL)
		a.Recruit.SetBaseURL(baseURL)
	}
	if err := a.FirstRun(ctx, cfg.Demo, baseURL, o.Out); err != nil {
		ln.Close()
		return err
	}

	servers := []*http.Server{newHTTPServer(w.Handler(), a.Logger)}
	listeners := []net.Listener{ln}
	if cfg.HTTPRedirectAddr != "" {
		rln, err := listen("--http-redirect-addr", cfg.HTTPRedirectAddr)
		if err != nil {
			ln.Close()
			return err
		}
		var h http.Handler = redirectToHTTPS(baseURL)
		if acmeManager != nil {
			h = acmeManager.HTTPHandler(h)
		}
		servers = append(servers, newHTTPServer(h, a.Logger))
		listeners = append(listeners, rln)
	}
	if cfg.AdminAddr != "" {
		aln, err := listen("--admin-addr", cfg.AdminAddr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return err
		}
		servers = append(servers, newHTTPServer(w.AdminHandler(), a.Logger))
		listeners = append(listeners, aln)
	}

	runner, err := a.Jobs(baseURL)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return err
	}
	runner.AlertEvery = o.AlertInterval
	var window func(ctx context.Context) (time.Time, time.Time, error)
	if cfg.PITRReplica != "" {
		rep, err := pitr.Start(ctx, a.PITROptions())
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("--pitr-replica: %w", err)
		}
		defer rep.Close()
		// Erasures make the database forget through the replicator, which
		// copies the log before it is truncated.
		a.DB.SetCheckpoint(rep.Checkpoint)
		defer a.DB.SetCheckpoint(nil)
		window = rep.Window
	}
	sched, err := a.BackupScheduler(window)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return err
	}
	if err := sched.Register(a.Registry); err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return err
	}
	runner.Backups = sched
	w.Backups = sched
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobsDone := make(chan struct{})
	go func() { runner.Run(jobsCtx); close(jobsDone) }()

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	a.Logger.Info("listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "version", VersionString())
	fmt.Fprintf(o.Out, "Kandidat %s is running at %s\n", VersionString(), baseURL)
	if cfg.SMTPHost == "" {
		where := filepath.Join(cfg.DataDir, "outbox")
		if cfg.Dev {
			fmt.Fprintf(o.Out, "Emails are not sent: they are written to %s and shown at %s/dev/outbox (set --smtp-host to send them).\n", where, baseURL)
		} else {
			fmt.Fprintf(o.Out, "Emails are not sent: they are written to %s (set --smtp-host to send them).\n", where)
		}
	}
	if len(sched.Specs) == 0 {
		fmt.Fprintln(o.Out, "No backup target is configured: nothing backs this installation up (see --backup-targets, docs/operations/backup.md).")
		a.Logger.Warn("no backup target configured")
	}
	if o.Ready != nil {
		o.Ready(baseURL)
	}
	// Start-up (migrations, templates, key material) leaves garbage behind;
	// hand it back to the system so an idle server stays small.
	go func() { runtime.GC(); debug.FreeOSMemory() }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Readiness fails first, so a load balancer stops sending; then the
	// in-flight requests get ShutdownTimeout to finish.
	w.Drain()
	a.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			a.Logger.Warn("shutdown", "error", err.Error())
			srv.Close()
		}
	}
	stopJobs()
	<-jobsDone
	a.Logger.Info("stopped")
	return serveErr
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: web.ServerTimeouts.ReadHeader,
		ReadTimeout:       web.ServerTimeouts.Read,
		WriteTimeout:      web.ServerTimeouts.Write,
		IdleTimeout:       web.ServerTimeouts.Idle,
		MaxHeaderBytes:    64 << 10,
		// The server's own messages ("TLS handshake error from ADDR: ...")
		// come before any route is known, so a reporter's address would
		// reach the log through them: it is cut out.
		ErrorLog: slog.NewLogLogger(addressless{logger.Handler()}, slog.LevelWarn),
	}
}

// addressless drops the client address net/http writes into its messages.
type addressless struct{ slog.Handler }

var fromAddress = regexp.MustCompile(`from \S+:\d+`)

func (h addressless) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, fromAddress.ReplaceAllString(r.Message, "from (address withheld)"), r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	return h.Handler.Handle(ctx, out)
}

func (h addressless) WithAttrs(as []slog.Attr) slog.Handler {
	return addressless{h.Handler.WithAttrs(as)}
}
func (h addressless) WithGroup(name string) slog.Handler {
	return addressless{h.Handler.WithGroup(name)}
}

func listen(setting, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, fmt.Errorf("%s: %s is already in use by another program", setting, addr)
		case errors.Is(err, syscall.EACCES):
			return nil, fmt.Errorf("%s: no permission to listen on %s (ports below 1024 need privileges)", setting, addr)
		default:
			return nil, fmt.Errorf("%s: cannot listen on %s: %v", setting, addr, err)
		}
	}
	return ln, nil
}

// tlsConfig returns the TLS configuration, or nil for plain HTTP.
func (a *App) tlsConfig(acmeClient *http.Client) (*tls.Config, *autocert.Manager, error) {
	cfg := a.Config
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	switch {
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-cert: cannot load the certificate and key: %v", err)
		}
		base.Certificates = []tls.Certificate{cert}
		return base, nil, nil
	case cfg.ACMEDomain != "":
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(cfg.DataDir, "acme")),
			HostPolicy: autocert.HostWhitelist(cfg.ACMEDomain),
			Email:      cfg.ACMEEmail,
		}
		if cfg.ACMEDirectoryURL != "" || acmeClient != nil {
			m.Client = &acme.Client{DirectoryURL: cfg.ACMEDirectoryURL, HTTPClient: acmeClient}
		}
		t := m.TLSConfig()
		t.MinVersion = tls.VersionTLS12
		return t, m, nil
	}
	return nil, nil, nil
}

func redirectToHTTPS(baseURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := baseURL + r.URL.RequestURI()
		if !strings.HasPrefix(baseURL, "https://") {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			target = "https://" + host + r.URL.RequestURI()
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})
}
