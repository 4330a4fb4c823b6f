package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/whistle"
)

// The case key page (/cases/key): a handler enrols their case key (after
// their account password), which shows the recovery key once; unlocks it
// for the session (the envelope goes into CasesCookie) or locks it;
// recovers it after a forgotten password with the recovery key or the
// custodians' shares (both seal it again under the current account
// password); makes a new recovery key; or replaces the key altogether.

// caseKeyData is the key page.
type caseKeyData struct {
	Status   whistle.KeyStatus
	Unlocked bool
	// Next is the page to return to after unlocking.
	Next string
	// Recovery is a new recovery key, shown this once.
	Recovery string
	// Notice names what was just done ("locked", "recovered").
	Notice string
	page   *page
}

// caseKeyFormArgs feed the key page's shared blocks: the page, and the
// form they are part of (a refusal's messages show in that form only).
type caseKeyFormArgs struct {
	P    *page
	Form string
}

// For returns the arguments of the blocks of the form named.
func (d caseKeyData) For(form string) caseKeyFormArgs { return caseKeyFormArgs{P: d.page, Form: form} }

func (s *Server) caseKeyPage(w http.ResponseWriter, r *http.Request, next string) (*page, error) {
	ks, unlocked, err := s.caseKeyState(w, r)
	if err != nil {
		return nil, err
	}
	pg := s.newPage(r, "cases.key_title")
	if next == "" || !strings.HasPrefix(next, "/cases") {
		next = "/cases"
	}
	pg.Data = caseKeyData{Status: ks, Unlocked: unlocked, Next: next}
	pg.Form["next"] = next
	return pg, nil
}

// showCaseKey renders the key page with d's changes.
func (s *Server) showCaseKey(w http.ResponseWriter, r *http.Request, status int, pg *page, change func(*caseKeyData)) {
	d := pg.Data.(caseKeyData)
	if change != nil {
		change(&d)
	}
	d.page = pg
	pg.Data = d
	s.render(w, r, status, "cases_key", pg)
}

func (s *Server) handleCaseKey(w http.ResponseWriter, r *http.Request) {
	pg, err := s.caseKeyPage(w, r, localPath(r.URL.Query().Get("next")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := r.URL.Query().Get("done")
	if notice != "locked" && notice != "recovered" {
		notice = ""
	}
	s.showCaseKey(w, r, http.StatusOK, pg, func(d *caseKeyData) { d.Notice = notice })
}

// caseKeyForm parses a key form and returns the key page to show again
// when it is refused.
func (s *Server) caseKeyForm(w http.ResponseWriter, r *http.Request) (*page, bool) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	pg, err := s.caseKeyPage(w, r, localPath(r.PostForm.Get("next")))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return pg, true
}

// refuseCaseKey shows the key page again with the refusal's message
// beside the form that caused it (form names it).
func (s *Server) refuseCaseKey(w http.ResponseWriter, r *http.Request, pg *page, form string, err error) {
	if errors.Is(err, account.ErrNoSession) {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	pg.Form["form"] = form
	s.refuse(w, r, err, pg, func(w http.ResponseWriter, r *http.Request, status int, pg *page) {
		s.showCaseKey(w, r, status, pg, nil)
	})
}

// checkAccountPassword asks the account service whether password is the
// signed-in user's (throttled like a sign-in): the case key is sealed
// under it, so a key is made or recovered only with the right one.
func (s *Server) checkAccountPassword(r *http.Request, password string) error {
	err := s.Accounts.Reauthenticate(r.Context(), stateOf(r).principal, password, client(r))
	err = fault.Show(err, account.ErrWrongPassword, "password", "error.current_password")
	return fault.Show(err, account.ErrTooManyAttempts, "password", "signin.busy")
}

// handleCaseKeyEnrol makes the handler's key pair, unlocks it for the
// session and shows the recovery key once.
func (s *Server) handleCaseKeyEnrol(w http.ResponseWriter, r *http.Request) {
	s.enrolCaseKey(w, r, false)
}

// handleCaseKeyReplace replaces the handler's key (a confirmed, dangerous
// step: the cases sealed to the old key must be shared again).
func (s *Server) handleCaseKeyReplace(w http.ResponseWriter, r *http.Request) {
	s.enrolCaseKey(w, r, true)
}

func (s *Server) enrolCaseKey(w http.ResponseWriter, r *http.Request, replace bool) {
	pg, ok := s.caseKeyForm(w, r)
	if !ok {
		return
	}
	form := "enrol"
	if replace {
		form = "replace"
		if r.PostForm.Get("confirm") != "yes" {
			s.refuseCaseKey(w, r, pg, form, fault.Field("confirm", "cases.error.confirm_replace"))
			return
		}
	}
	p := stateOf(r).principal
	password := r.PostForm.Get("password")
	if err := s.checkAccountPassword(r, password); err != nil {
		s.refuseCaseKey(w, r, pg, form, err)
		return
	}
	recovery, err := s.Whistle.Enrol(r.Context(), p.Actor(), password, replace)
	if err != nil {
		s.refuseCaseKey(w, r, pg, form, err)
		return
	}
	env, err := s.Whistle.Unlock(r.Context(), p.Actor(), p.SessionID, password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setCasesCookie(w, env)
	s.showRecoveryKey(w, r, pg, recovery)
}

// showRecoveryKey shows a new recovery key, this once: the page is never
// stored (render sets no-store), and prints on its own.
func (s *Server) showRecoveryKey(w http.ResponseWriter, r *http.Request, pg *page, recovery string) {
	s.showCaseKey(w, r, http.StatusOK, pg, func(d *caseKeyData) {
		d.Recovery, d.Unlocked, d.Status.Enrolled = recovery, true, true
	})
}

// handleCaseKeyUnlock opens the key with the password and keeps the
// envelope in the session's cookie.
func (s *Server) handleCaseKeyUnlock(w http.ResponseWriter, r *http.Request) {
	pg, ok := s.caseKeyForm(w, r)
	if !ok {
		return
	}
	p := stateOf(r).principal
	// The password is the account's: it is checked as at sign-in first
	// (throttled, counted towards the lockout), so a taken-over session
	// cannot be used to guess it here without limit.
	if err := s.Accounts.Reauthenticate(r.Context(), p, r.PostForm.Get("password"), client(r)); err != nil {
		if errors.Is(err, account.ErrTooManyAttempts) {
			err = fault.Show(err, account.ErrTooManyAttempts, "password", "signin.busy")
		} else if errors.Is(err, fault.ErrUnauthenticated) || errors.Is(err, fault.ErrInvalid) {
			err = fault.Field("password", "whistle.error.unlock")
		}
		s.refuseCaseKey(w, r, pg, "unlock", err)
		return
	}
	env, err := s.Whistle.Unlock(r.Context(), p.Actor(), p.SessionID, r.PostForm.Get("password"))
	if err != nil {
		s.refuseCaseKey(w, r, pg, "unlock", fault.Show(err, whistle.ErrWrongPassword, "password", "whistle.error.unlock"))
		return
	}
	setCasesCookie(w, env)
	http.Redirect(w, r, pg.Form["next"], http.StatusSeeOther)
}

// handleCaseKeyLock forgets the unlocked key (the cookie).
func (s *Server) handleCaseKeyLock(w http.ResponseWriter, r *http.Request) {
	clearCasesCookie(w)
	http.Redirect(w, r, "/cases/key?done=locked", http.StatusSeeOther)
}

// handleCaseKeyRecover opens the key with the recovery key and seals it
// under the current account password.
func (s *Server) handleCaseKeyRecover(w http.ResponseWriter, r *http.Request) {
	pg, ok := s.caseKeyForm(w, r)
	if !ok {
		return
	}
	p := stateOf(r).principal
	password := r.PostForm.Get("password")
	if err := s.checkAccountPassword(r, password); err != nil {
		s.refuseCaseKey(w, r, pg, "recover", err)
		return
	}
	env, err := s.Whistle.Recover(r.Context(), p.Actor(), p.SessionID, strings.TrimSpace(r.PostForm.Get("recovery_code")), password)
	if err != nil {
		s.refuseCaseKey(w, r, pg, "recover", fault.Show(err, whistle.ErrWrongPassword, "recovery_code", "cases.error.recovery"))
		return
	}
	setCasesCookie(w, env)
	http.Redirect(w, r, "/cases/key?done=recovered", http.StatusSeeOther)
}

// handleCaseKeyShares opens the key through the company's escrow with the
// custodians' shares (one per line), seals it under the current account
// password, and shows the new recovery key once.
func (s *Server) handleCaseKeyShares(w http.ResponseWriter, r *http.Request) {
	pg, ok := s.caseKeyForm(w, r)
	if !ok {
		return
	}
	p := stateOf(r).principal
	password := r.PostForm.Get("password")
	if err := s.checkAccountPassword(r, password); err != nil {
		s.refuseCaseKey(w, r, pg, "shares", err)
		return
	}
	var shares []string
	for _, line := range strings.Split(r.PostForm.Get("share_codes"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			shares = append(shares, line)
		}
	}
	if len(shares) < 2 || len(shares) > 10 {
		s.refuseCaseKey(w, r, pg, "shares", fault.Field("share_codes", "cases.error.shares"))
		return
	}
	recovery, env, err := s.Whistle.RecoverWithShares(r.Context(), p.Actor(), p.SessionID, shares, password)
	if err != nil {
		s.refuseCaseKey(w, r, pg, "shares", fault.Show(err, whistle.ErrWrongPassword, "share_codes", "cases.error.shares"))
		return
	}
	setCasesCookie(w, env)
	s.showRecoveryKey(w, r, pg, recovery)
}

// handleCaseKeyRecovery makes a new recovery key (the key must be
// unlocked); the old one stops working.
func (s *Server) handleCaseKeyRecovery(w http.ResponseWriter, r *http.Request) {
	h, ok := s.caseHandler(w, r)
	if !ok {
		return
	}
	pg, ok := s.caseKeyForm(w, r)
	if !ok {
		return
	}
	recovery, err := s.Whistle.NewRecoveryKey(r.Context(), h)
	if err != nil {
		s.refuseCaseKey(w, r, pg, "recovery", err)
		return
	}
	s.showRecoveryKey(w, r, pg, recovery)
}
