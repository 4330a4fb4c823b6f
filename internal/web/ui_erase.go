package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kandidat/kandidat/internal/fault"
)

// eraseData is the confirmation page of an erasure: it says what goes and
// that nothing brings it back, and posts the selection again.
type eraseData struct {
	// Action is where the confirmed form posts; Back where "cancel" goes.
	Action, Back string
	// Applications are the selected applications (one from the card).
	Applications []string
	// Name is the candidate's name on the card's confirmation ("" in bulk).
	Name  string
	Count int
	// Filters are the list's filters, kept for the way back.
	Filters url.Values
}

// handleEraseForm is the card's "erase" confirmation.
func (s *Server) handleEraseForm(w http.ResponseWriter, r *http.Request) {
	a := stateOf(r).principal.Actor()
	app, err := s.Recruit.Application(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "erase.title")
	pg.Data = eraseData{Action: "/applications/" + app.ID + "/erase", Back: "/applications/" + app.ID,
		Applications: []string{app.ID}, Name: app.Candidate.Name, Count: 1}
	s.render(w, r, http.StatusOK, "erase", pg)
}

// handleErase erases the card's candidate once the user confirmed.
func (s *Server) handleErase(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	app, err := s.Recruit.Application(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	appID := app.ID
	if r.PostForm.Get("confirm") != "yes" {
		pg := s.newPage(r, "erase.title")
		pg.Errors["confirm"] = "erase.error.confirm"
		pg.Data = eraseData{Action: "/applications/" + appID + "/erase", Back: "/applications/" + appID, Applications: []string{appID},
			Name: app.Candidate.Name, Count: 1}
		s.render(w, r, http.StatusUnprocessableEntity, "erase", pg)
		return
	}
	if err := s.Privacy.EraseCandidate(r.Context(), stateOf(r).principal.Actor(), appID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/candidates?erased=1", http.StatusSeeOther)
}

// handleEraseSelection is the search's bulk erasure: without "confirm" it
// shows the confirmation, with it it erases.
func (s *Server) handleEraseSelection(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	back := url.Values{}
	for _, k := range listFilterKeys {
		if v := f.Get("filter_" + k); v != "" {
			back.Set(k, v)
		}
	}
	ids := f["application"]
	if len(ids) == 0 || len(ids) > maxBulkErase {
		s.fail(w, r, fault.Field("application", "erase.error.selection"))
		return
	}
	if f.Get("confirm") != "yes" {
		// The confirmation names only what the user may see.
		var visible []string
		for _, appID := range ids {
			if _, err := s.Recruit.Application(r.Context(), stateOf(r).principal.Actor(), appID); err == nil {
				visible = append(visible, appID)
			}
		}
		if len(visible) == 0 {
			s.fail(w, r, fault.Field("application", "erase.error.selection"))
			return
		}
		ids = visible
		pg := s.newPage(r, "erase.title")
		if f.Has("confirm") {
			pg.Errors["confirm"] = "erase.error.confirm"
		}
		pg.Data = eraseData{Action: "/candidates/erase", Back: "/candidates?" + back.Encode(), Applications: ids, Count: len(ids), Filters: back}
		s.render(w, r, http.StatusOK, "erase", pg)
		return
	}
	n, err := s.Privacy.EraseCandidates(r.Context(), stateOf(r).principal.Actor(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back.Set("erased", strconv.Itoa(n))
	http.Redirect(w, r, "/candidates?"+back.Encode(), http.StatusSeeOther)
}

// maxBulkErase bounds one bulk erasure (a page of the list is at most 100).
const maxBulkErase = 500
