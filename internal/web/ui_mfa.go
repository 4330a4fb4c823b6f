package web

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
)

func (s *Server) handleMFAForm(w http.ResponseWriter, r *http.Request) {
	if !stateOf(r).principal.MFAPending {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "mfa", s.newPage(r, "mfa.title"))
}

// handleMFA completes the second step of sign-in.
func (s *Server) handleMFA(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	token, err := s.Accounts.VerifySecondFactor(r.Context(), st.token, r.PostForm.Get("code"), client(r))
	// A wrong code here is a failed sign-in (401), where in the forms that
	// enrol or remove a factor it is a mistake to correct (422).
	if errors.Is(err, account.ErrInvalidCode) {
		pg := s.newPage(r, "mfa.title")
		pg.Errors["code"] = "error.mfa_code"
		s.render(w, r, http.StatusUnauthorized, "mfa", pg)
		return
	}
	if errors.Is(err, account.ErrNoSession) {
		clearSessionCookie(w)
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setSessionCookie(w, token)
	s.trustBrowser(w, r, token) // fully signed in: the device cookie (ui_signin.go)
	if st.principal.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

type mfaData struct {
	Enabled   bool
	EmailOn   bool
	Strict    bool
	EmailSent bool
	SMSOn     bool
	SMSSent   bool
	// KeyRequired: the strict profile requires a passkey of this administrator.
	KeyRequired bool
	CodesLeft   int
	QR          template.URL
	Secret      string
	Codes       []string
	// Required: the user may not be without a second factor, because the
	// company requires one of their role or (RoleRequired) because their
	// rights always need one (handling whistleblowing cases); the page
	// says which.
	Required     bool
	RoleRequired bool
}

func (s *Server) handleMFASettings(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	left, err := s.Accounts.RecoveryCodesLeft(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	emailOn, err := s.Accounts.EmailMFAEnabled(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	pg := s.newPage(r, "mfa.settings_title")
	smsOn, err := s.Accounts.SMSMFAEnabled(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	strict := st.tenant.Settings.PasswordProfile == "strict"
	byRole := p.Perms.RequiresMFA()
	pg.Data = mfaData{Enabled: p.HasMFA, EmailOn: emailOn, SMSOn: smsOn, CodesLeft: left,
		Required: st.tenant.Settings.MFARequiredFor(p.Role) || byRole, RoleRequired: byRole,
		Strict: strict, KeyRequired: strict && p.Perms.Privileged() && !p.HasPasskey}
	s.render(w, r, http.StatusOK, "mfa_settings", pg)
}

func (s *Server) handleEmailMFABegin(w http.ResponseWriter, r *http.Request) {
	// A factor the company's policy does not allow is the error page
	// (403); an account without an email address is told so (409).
	if err := s.Accounts.BeginEmailMFA(r.Context(), stateOf(r).principal.Actor()); err != nil {
		pg := s.newPage(r, "mfa.settings_title")
		pg.Data = mfaData{}
		s.refuse(w, r, err, pg, s.show("mfa_settings"))
		return
	}
	pg := s.newPage(r, "mfa.enrol_title")
	pg.Data = mfaData{EmailSent: true}
	s.render(w, r, http.StatusOK, "mfa_enrol", pg)
}

func (s *Server) handleTOTPBegin(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	en, err := s.Accounts.BeginTOTP(r.Context(), p.Actor())
	if errors.Is(err, account.ErrMFAEnabled) {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "mfa.enrol_title")
	// The image is generated here from the secret; no user input reaches it.
	pg.Data = mfaData{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)), Secret: en.Secret}
	s.render(w, r, http.StatusOK, "mfa_enrol", pg)
}

func (s *Server) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := stateOf(r).principal
	codes, err := s.Accounts.ConfirmTOTP(r.Context(), p, r.PostForm.Get("code"), client(r))
	if errors.Is(err, account.ErrNoPendingEnrolment) {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	if err != nil {
		pg := s.newPage(r, "mfa.enrol_title")
		pg.Data = mfaData{}
		s.refuse(w, r, err, pg, s.show("mfa_enrol"))
		return
	}
	pg := s.newPage(r, "mfa.codes_title")
	pg.Data = mfaData{Enabled: true, Codes: codes}
	s.render(w, r, http.StatusOK, "mfa_settings", pg)
}

func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	if st.tenant.Settings.MFARequiredFor(st.principal.Role) {
		s.renderError(w, r, http.StatusForbidden)
		return
	}
	err := s.Accounts.DisableTOTP(r.Context(), st.principal, r.PostForm.Get("code"), client(r))
	if err != nil && !errors.Is(err, account.ErrNoPendingEnrolment) {
		pg := s.newPage(r, "mfa.settings_title")
		pg.Data = mfaData{Enabled: true}
		s.refuse(w, r, err, pg, s.show("mfa_settings"))
		return
	}
	http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
}

func (s *Server) handleSMSMFABegin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	// A factor the company's policy does not allow is the error page (403).
	if err := s.Accounts.BeginSMSMFA(r.Context(), stateOf(r).principal.Actor(), r.PostForm.Get("phone")); err != nil {
		pg := s.newPage(r, "mfa.settings_title")
		pg.Data = mfaData{}
		s.refuse(w, r, err, pg, s.show("mfa_settings"))
		return
	}
	pg := s.newPage(r, "mfa.enrol_title")
	pg.Data = mfaData{SMSSent: true}
	s.render(w, r, http.StatusOK, "mfa_enrol", pg)
}

// handleCodeFactorConfirm turns on a factor whose enrolment code was just
// sent (by email or SMS) and shows the recovery codes once.
func (s *Server) handleCodeFactorConfirm(confirm func(context.Context, *account.Principal, string, account.Client) ([]string, error), sent mfaData) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, err)
			return
		}
		codes, err := confirm(r.Context(), stateOf(r).principal, r.PostForm.Get("code"), client(r))
		if err != nil {
			pg := s.newPage(r, "mfa.enrol_title")
			pg.Data = sent
			s.refuse(w, r, err, pg, s.show("mfa_enrol"))
			return
		}
		pg := s.newPage(r, "mfa.codes_title")
		pg.Data = mfaData{Enabled: true, Codes: codes}
		s.render(w, r, http.StatusOK, "mfa_settings", pg)
	}
}

// handleCodeFactorDisable turns a code factor off, unless the company
// requires a second factor of the user.
func (s *Server) handleCodeFactorDisable(disable func(context.Context, *account.Principal, account.Client) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if st.tenant.Settings.MFARequiredFor(st.principal.Role) || st.principal.Perms.RequiresMFA() {
			s.renderError(w, r, http.StatusForbidden)
			return
		}
		if err := disable(r.Context(), st.principal, client(r)); err != nil && !errors.Is(err, account.ErrNoPendingEnrolment) {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
	}
}
