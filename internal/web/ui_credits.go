package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/credit"
)

// ledgerPerPage is the most ledger entries one page of the credits page shows.
const ledgerPerPage = 50

type creditsData struct {
	Balance int64
	Ledger  []credit.Entry
	// Total is the number of entries in the ledger; NextURL and FirstURL
	// lead to older entries and back to the newest ("" when there is none).
	Total             int
	NextURL, FirstURL string
	Names             map[string]string
	Reasons           []string
	FreePublications  int
	PublicationCost   int
	Granted           bool
}

func (s *Server) handleCredits(w http.ResponseWriter, r *http.Request) {
	s.renderCredits(w, r, http.StatusOK, s.newPage(r, "credits.title"))
}

func (s *Server) renderCredits(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	st := stateOf(r)
	// A cursor the service did not make (edited, or from an older version)
	// shows the newest entries.
	after := r.URL.Query().Get("after")
	ledger, next, err := s.Credits.LedgerPage(r.Context(), st.principal.Actor(), after, ledgerPerPage)
	if errors.Is(err, credit.ErrBadCursor) {
		after = ""
		ledger, next, err = s.Credits.LedgerPage(r.Context(), st.principal.Actor(), after, ledgerPerPage)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total, err := s.Credits.CountLedger(r.Context(), st.principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	balance, err := s.Credits.Balance(r.Context(), st.principal.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names, _, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := creditsData{Balance: balance, Ledger: ledger, Total: total, Names: names, Reasons: credit.GrantReasons,
		FreePublications: st.tenant.Settings.FreePublicationsPerMonth(), PublicationCost: st.tenant.Settings.PublicationCredits(),
		Granted: r.URL.Query().Get("granted") == "1"}
	if next != "" {
		d.NextURL = "/credits?" + url.Values{"after": {next}}.Encode()
	}
	if after != "" {
		d.FirstURL = "/credits"
	}
	pg.Data = d
	s.render(w, r, status, "credits", pg)
}

func (s *Server) handleCreditGrant(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	amount, convErr := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("amount")), 10, 64)
	if convErr != nil {
		amount = 0 // the service answers with the field's message
	}
	_, err := s.Credits.Grant(r.Context(), stateOf(r).principal.Actor(),
		credit.GrantInput{Amount: amount, Reason: r.PostForm.Get("reason"), Note: r.PostForm.Get("note")})
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "credits.title")
		pg.Errors = fields
		pg.Form["amount"], pg.Form["reason"], pg.Form["note"] = r.PostForm.Get("amount"), r.PostForm.Get("reason"), r.PostForm.Get("note")
		s.renderCredits(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/credits?granted=1", http.StatusSeeOther)
}

func (s *Server) handleCreditRefund(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	_, err := s.Credits.Refund(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), r.PostForm.Get("note"))
	if errors.Is(err, credit.ErrNotRefundable) {
		pg := s.newPage(r, "credits.title")
		pg.Errors[""] = "error.credit_not_refundable"
		s.renderCredits(w, r, http.StatusConflict, pg)
		return
	}
	if fields, ok := fieldErrors(err); ok {
		pg := s.newPage(r, "credits.title")
		pg.Errors = fields
		s.renderCredits(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/credits", http.StatusSeeOther)
}
