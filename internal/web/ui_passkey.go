package web

import (
	"errors"
	"net/http"

	"github.com/kandidat/kandidat/internal/account"
)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// handlePasskeyRegisterBegin starts a passkey registration. The relying
// party (id and origin) is the installation's base URL, decided by the
// account service: the request's Host header, which the client chooses,
// plays no part in any passkey ceremony.
func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	options, err := s.Accounts.BeginPasskeyRegistration(r.Context(), stateOf(r).principal)
	if err != nil {
		s.Logger.Warn("passkey registration", "request_id", stateOf(r).requestID, "error", err.Error())
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"registration"}`))
		return
	}
	writeJSON(w, http.StatusOK, options)
}

func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	err := s.Accounts.FinishPasskeyRegistration(r.Context(), stateOf(r).principal, r, client(r))
	if err != nil {
		s.Logger.Warn("passkey registration", "request_id", stateOf(r).requestID, "error", err.Error())
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"registration"}`))
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"next":"/account/mfa"}`))
}

func (s *Server) handlePasskeySignInBegin(w http.ResponseWriter, r *http.Request) {
	options, err := s.Accounts.BeginPasskeySignIn(r.Context(), stateOf(r).token)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"sign-in"}`))
		return
	}
	writeJSON(w, http.StatusOK, options)
}

func (s *Server) handlePasskeySignInFinish(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	token, err := s.Accounts.FinishPasskeySignIn(r.Context(), st.token, r, client(r))
	if errors.Is(err, account.ErrNoSession) {
		writeJSON(w, http.StatusUnauthorized, []byte(`{"next":"/signin"}`))
		return
	}
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, []byte(`{"error":"sign-in"}`))
		return
	}
	setSessionCookie(w, token)
	s.trustBrowser(w, r, token) // fully signed in: the device cookie (ui_signin.go)
	next := "/dashboard"
	if st.principal.MustChangePassword {
		next = "/password"
	}
	writeJSON(w, http.StatusOK, []byte(`{"next":"`+next+`"}`))
}
