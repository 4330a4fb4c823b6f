package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if stateOf(r).principal != nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	if stateOf(r).principal != nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	pg := s.newPage(r, "signin.title")
	pg.Data = r.URL.Query().Get("reset") == "1"
	s.render(w, r, http.StatusOK, "signin", pg)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	login, password := r.PostForm.Get("login"), r.PostForm.Get("password")
	token, p, err := s.Accounts.SignIn(r.Context(), login, password, client(r))
	if err != nil {
		// signin.failed (401) or signin.busy (429), the login kept.
		s.refuse(w, r, err, s.newPage(r, "signin.title"), s.show("signin"))
		return
	}
	// A new session id at every sign-in; the one the browser had, if any, ends.
	if st.token != "" {
		_ = s.Accounts.SignOut(r.Context(), st.token, client(r))
	}
	setSessionCookie(w, token)
	s.afterSignIn(w, r, token, p)
}

// afterSignIn sends a browser that has just passed the password (or an
// unlock link) on: to the second step if one is due, else, now fully
// signed in, it gets its device cookie and goes to the forced password
// change or the dashboard.
func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request, token string, p *account.Principal) {
	switch {
	case p.MFAPending:
		http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
	case p.MustChangePassword:
		s.trustBrowser(w, r, token)
		http.Redirect(w, r, "/password", http.StatusSeeOther)
	default:
		s.trustBrowser(w, r, token)
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	}
}

// DeviceCookie is the name of the cookie by which a browser shows that its
// user signed in with it before: password attempts with it count apart
// from everyone else's, so another browser's failures neither lock nor slow
// it (decision 0003).
const DeviceCookie = "__Host-kandidat_device"

// trustBrowser gives the browser of a fully signed-in session (past the
// second step, if any) its device cookie. The sign-in stands without it,
// so a failure is logged, not shown.
func (s *Server) trustBrowser(w http.ResponseWriter, r *http.Request, sessionToken string) {
	dc, err := s.Accounts.TrustDevice(r.Context(), sessionToken, client(r))
	if err != nil {
		s.Logger.Warn("device cookie not set", "request_id", stateOf(r).requestID, "error", err.Error())
		return
	}
	setDeviceCookie(w, dc)
}

func setDeviceCookie(w http.ResponseWriter, dc account.DeviceCookie) {
	if dc.Value == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: DeviceCookie, Value: dc.Value, Path: "/", Expires: dc.Expires, MaxAge: int(time.Until(dc.Expires).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Accounts.SignOut(r.Context(), stateOf(r).token, client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	clearSessionCookie(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) handlePasswordForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", s.newPage(r, "password.title"))
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	st := stateOf(r)
	p := st.principal
	next, err := confirmedPassword(r, "new_password")
	if err == nil {
		err = s.Accounts.ChangePassword(r.Context(), p.Actor(), r.PostForm.Get("current_password"), next, client(r))
	}
	if err != nil {
		// The current password wrong is a mistake in the form (422), not
		// a failed sign-in; too many attempts are said beside it too.
		if errors.Is(err, account.ErrWrongPassword) {
			err = fault.Field("current_password", "error.current_password")
		}
		err = fault.Show(err, account.ErrTooManyAttempts, "current_password", "signin.busy")
		s.refuse(w, r, err, s.newPage(r, "password.title"), s.show("password"))
		return
	}
	// Every session and device cookie ended with the change; this browser
	// gets a fresh session, and stays a trusted device.
	token, err := s.Accounts.StartSession(r.Context(), p.TenantID, p.UserID, client(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setSessionCookie(w, token)
	s.trustBrowser(w, r, token)
	http.Redirect(w, r, "/dashboard?changed=1", http.StatusSeeOther)
}

func (s *Server) handleUnlockForm(w http.ResponseWriter, r *http.Request) {
	if !s.Accounts.UnlockTokenValid(r.Context(), r.PathValue("token")) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	s.render(w, r, http.StatusOK, "unlock", s.newPage(r, "unlock.title"))
}

// handleUnlock signs the owner of an emailed unlock link in with their
// password, despite the lock, and makes the browser a trusted device.
func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.Accounts.Unlock(r.Context(), r.PathValue("token"), r.PostForm.Get("password"), client(r))
	if err != nil {
		// An unknown, used or expired link is the error page (404).
		err = fault.Show(err, account.ErrInvalidCredentials, "password", "unlock.failed")
		err = fault.Show(err, account.ErrTooManyAttempts, "password", "signin.busy")
		s.refuse(w, r, err, s.newPage(r, "unlock.title"), s.show("unlock"))
		return
	}
	if st := stateOf(r); st.token != "" {
		_ = s.Accounts.SignOut(r.Context(), st.token, client(r))
	}
	setSessionCookie(w, res.Session)
	setDeviceCookie(w, res.Device)
	switch {
	case res.Principal.MFAPending:
		http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
	case res.Principal.MustChangePassword:
		http.Redirect(w, r, "/password", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	}
}

// client describes the browser of a request for the services, with its
// device cookie if it has one.
func client(r *http.Request) account.Client {
	c := account.Client{IP: stateOf(r).clientIP, UserAgent: r.UserAgent()}
	if dc, err := r.Cookie(DeviceCookie); err == nil {
		c.Device = dc.Value
	}
	return c
}
