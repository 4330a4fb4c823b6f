package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
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
	FreePublications  int
	PublicationCost   int
	// Spenders are the active users who may spend credits, with their
	// monthly limits (LimitSaved after a change).
	Spenders   []spender
	LimitSaved bool
}

// spender is a user who may spend credits and their monthly limit, if any.
type spender struct {
	ID, Name string
	Limit    *credit.Limit
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
	names, users, err := s.userNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limits, err := s.Credits.Limits(r.Context(), st.principal.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byUser := make(map[string]*credit.Limit, len(limits))
	for i := range limits {
		byUser[limits[i].UserID] = &limits[i]
	}
	d := creditsData{Balance: balance, Ledger: ledger, Total: total, Names: names,
		FreePublications: st.tenant.Settings.FreePublicationsPerMonth(), PublicationCost: st.tenant.Settings.PublicationCredits(),
		LimitSaved: r.URL.Query().Get("limit") == "1"}
	for _, u := range users {
		if u.Status == account.Active && u.Perms.Has(access.SpendCredits) {
			d.Spenders = append(d.Spenders, spender{ID: u.ID, Name: u.DisplayName, Limit: byUser[u.ID]})
		}
	}
	if next != "" {
		d.NextURL = "/credits?" + url.Values{"after": {next}}.Encode()
	}
	if after != "" {
		d.FirstURL = "/credits"
	}
	pg.Data = d
	s.render(w, r, status, "credits", pg)
}

// handleCreditLimit sets (or, with an empty field, lifts) how many credits
// a user may spend in a month.
func (s *Server) handleCreditLimit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	var limit *int64
	if v := strings.TrimSpace(r.PostForm.Get("limit")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = -1 // the service answers with the field's message
		}
		limit = &n
	}
	err := s.Credits.SetLimit(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), limit)
	if err != nil {
		// The limit field is one per user: its message goes above the list.
		s.refuse(w, r, onForm(err), s.newPage(r, "credits.title"), s.renderCredits)
		return
	}
	http.Redirect(w, r, "/credits?limit=1#limits", http.StatusSeeOther)
}
