package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/tenant"
)

// state is what the middleware learns about a request; handlers read it
// through stateOf.
type state struct {
	requestID string
	nonce     string
	clientIP  string
	https     bool
	principal *account.Principal
	tenant    *tenant.Tenant
	token     string // the session secret, to end it at sign-out
	lang      string
}

type stateKey struct{}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{requestID: "-", lang: "en"}
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// middleware wraps the routes, outermost first: request state and id,
// access log and metrics, panic recovery, security headers, cross-origin
// protection, body limit, session.
func (s *Server) middleware(next http.Handler) http.Handler {
	h := s.loadSession(next)
	h = s.limitBody(h)
	h = s.crossOrigin(h)
	h = s.securityHeaders(h)
	h = s.recoverPanic(h)
	h = s.logRequest(h)
	return s.initState(h)
}

func (s *Server) initState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		st := &state{requestID: hex.EncodeToString(b), nonce: randomString(18), lang: "en"}
		st.clientIP, st.https = s.clientInfo(r)
		w.Header().Set("X-Request-Id", st.requestID)
		ctx := audit.WithRequestID(context.WithValue(r.Context(), stateKey{}, st), st.requestID)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientInfo returns the client's address and whether it reached us over
// HTTPS. X-Forwarded-* are believed only from a trusted proxy.
func (s *Server) clientInfo(r *http.Request) (ip string, https bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	https = r.TLS != nil
	addr, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(addr) {
		return host, https
	}
	if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
		// The right-most address not of a trusted proxy is the client.
		parts := strings.Split(fwd, ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				break
			}
			host = a.String()
			if !s.trusted(a) {
				break
			}
		}
	}
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		https = strings.EqualFold(proto, "https")
	}
	return host, https
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequest writes one JSON access-log line per request. It logs the route
// pattern, never the raw path or query (they can carry tokens or names), and
// no client address or user agent: the access log holds no personal data.
// The reporter's pages get no line and no metric: even a route and a time
// tell when someone reported (their errors go to logFor's day-only log).
func (s *Server) logRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isReport(r) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(r.Method, route, rec.status, d)
		st := stateOf(r)
		attrs := []slog.Attr{
			slog.String("request_id", st.requestID),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		}
		if st.principal != nil {
			attrs = append(attrs, slog.String("tenant_id", st.principal.TenantID), slog.String("user_id", st.principal.UserID))
		}
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http_request", attrs...)
	})
}

func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logFor(r).Error("panic", "request_id", stateOf(r).requestID, "panic", v, "stack", string(debug.Stack()))
				s.renderError(w, r, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-"+st.nonce+"'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if isReport(r) {
			// The reporter's pages name the company in their address, and a
			// cached page could show a case to the next user of the device.
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-store")
		}
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.opts.TLS || st.https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin rejects state-changing requests from other origins (CSRF),
// using the browser's Sec-Fetch-Site and Origin headers.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusForbidden)
	}))
	checked := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The API authenticates by a bearer token a browser never sends on
		// its own: a request from another origin carries no credential.
		if isAPI(r) {
			next.ServeHTTP(w, r)
			return
		}
		// The standard check compares the Origin's host with Host but not its
		// scheme: a page on http://host may not post to https://host.
		if !safeMethod(r.Method) && !originSchemeMatches(r, stateOf(r).https) {
			s.renderError(w, r, http.StatusForbidden)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// originSchemeMatches reports whether a request's Origin header, when it
// names this host, names it with the scheme the request arrived by.
func originSchemeMatches(r *http.Request, https bool) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true // no Origin: left to the standard check
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if !strings.EqualFold(u.Host, r.Host) {
		return true // another host: the standard check refuses it
	}
	want := "http"
	if https {
		want = "https"
	}
	return strings.EqualFold(u.Scheme, want)
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.opts.MaxBodyBytes
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/careers/") {
			limit = max(limit, MaxUploadBytes) // applications carry documents
		}
		if r.Method == http.MethodPost && r.URL.Path == "/imports" {
			limit = max(limit, importUploadLimit) // a file from another ATS and its documents
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/cases/") && strings.HasSuffix(r.URL.Path, "/reply") {
			limit = max(limit, MaxCaseUploadBytes) // a handler's reply carries files (ui_cases.go)
		}
		if isAPIUpload(r) {
			limit = max(limit, apiUploadLimit) // the API's upload: the body is one document
		}
		if r.Method == http.MethodPost && isReport(r) {
			limit = max(limit, MaxReportUploadBytes) // reports and replies carry files
		}
		if r.ContentLength > limit {
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// staffRequestTimeout bounds the database work of a signed-in request.
const staffRequestTimeout = 30 * time.Second

// SessionCookie is the name of the session cookie. The __Host- prefix makes
// the browser insist on Secure, Path=/ and no Domain.
const SessionCookie = "__Host-kandidat_session"

func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		// The reporter's pages read no cookie of ours but their own: a staff
		// session would record the visit (its activity) and tie it to a user.
		if isReport(r) {
			st.lang = s.I18n.Pick(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), "")
			w.Header().Set("Content-Language", st.lang)
			next.ServeHTTP(w, r)
			return
		}
		// The API reads no cookie: only its bearer token speaks for a caller,
		// so no page of another site can make a browser call it.
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && !isStatic(r) && !isAPI(r) {
			p, err := s.Accounts.Authenticate(r.Context(), c.Value)
			switch {
			case err == nil:
				st.principal, st.token = p, c.Value
				if t, err := s.Tenants.ByID(r.Context(), p.TenantID); err == nil {
					st.tenant = t
				} else {
					s.serverError(w, r, err)
					return
				}
			case errors.Is(err, account.ErrNoSession):
				clearSessionCookie(w)
			default:
				s.serverError(w, r, err)
				return
			}
		}
		companyLang := ""
		if st.tenant != nil {
			companyLang = st.tenant.DefaultLanguage
		}
		userLang := ""
		if st.principal != nil {
			userLang = st.principal.Language
		}
		if userLang == "" {
			if c, err := r.Cookie(LanguageCookie); err == nil {
				userLang = c.Value // checked by Pick
			}
		}
		st.lang = s.I18n.Pick(userLang, r.Header.Get("Accept-Language"), companyLang)
		w.Header().Set("Content-Language", st.lang)
		next.ServeHTTP(w, r)
	})
}

func isStatic(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/static/") }

func setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// signedIn lets only signed-in users through; others go to the sign-in page.
func (s *Server) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stateOf(r).principal == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return
			}
			s.renderError(w, r, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		// Until the second step is done, the session reaches only that step.
		if stateOf(r).principal.MFAPending && !strings.HasPrefix(r.URL.Path, "/signin/mfa") && r.URL.Path != "/signout" {
			http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
			return
		}
		// Every statement of a signed-in request is bounded in time (on
		// PostgreSQL also by the statement timeout its transactions declare):
		// one company's slow page cannot hold what other users wait for.
		// Exports stream for as long as they need.
		if !strings.Contains(r.URL.Path, "/export") {
			ctx, cancel := context.WithTimeout(r.Context(), staffRequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		h(w, r)
	})
}

// staff is signedIn plus the forced change of an initial password: until
// it is changed, every staff page sends the user to /password.
func (s *Server) staff(h http.HandlerFunc) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if st.principal.MustChangePassword {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		// A company that requires two-factor sign-in sends users without one to enrol.
		// The strict profile (ASVS L3) requires a passkey or security key of administrators.
		// Handling whistleblowing cases always requires one.
		needKey := st.tenant.Settings.PasswordProfile == "strict" && st.principal.Perms.Privileged() && !st.principal.HasPasskey
		needMFA := st.tenant.Settings.MFARequiredFor(st.principal.Role) || st.principal.Perms.RequiresMFA()
		if (needKey || needMFA && !st.principal.HasMFA) && !strings.HasPrefix(r.URL.Path, "/account/mfa") && r.URL.Path != "/reauth" {
			http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

// requireModule answers 404 when the signed-in user's company has module m
// switched off, as if the pages did not exist.
func (s *Server) requireModule(m tenant.Module, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if st.tenant == nil || !st.tenant.Enabled(m) {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}
