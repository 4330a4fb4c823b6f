package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// The "Matches" tab of a position: the company's pool ranked for it, with
// why each candidate ranks where they do, and two actions on a selection
// (add to the pipeline, invite to apply). The recruit service decides who
// may see the tab (the position's applications) and act on it (adding
// candidates to the position).

type matchesData struct {
	Position *recruit.Position
	Matches  []matchRow
	Query    *recruit.MatchQuery
	// CanAdd: the user adds candidates to the position; CanInvite: and
	// the position is on the career page, which the invitation links to.
	CanAdd, CanInvite bool
	// Result is the outcome of the last action (after its redirect).
	Result *recruit.MatchResult
}

// matchRow is a match as the tab shows it: its rank and its score as a
// percentage of the best match's.
type matchRow struct {
	recruit.Match
	Rank, Percent int
}

// matchesShown is how many matches the tab lists.
const matchesShown = 50

func (s *Server) handleMatches(w http.ResponseWriter, r *http.Request) {
	s.renderMatches(w, r, http.StatusOK, s.newPage(r, "positions.matches"))
}

func (s *Server) renderMatches(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	a := stateOf(r).principal.Actor()
	pos, err := s.Recruit.Position(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	matches, mq, err := s.Recruit.MatchesWith(r.Context(), a, pos.ID, matchesShown)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := matchesData{Position: pos, Query: mq, CanAdd: recruit.DecideOnPosition(a, access.AddCandidates, pos)}
	for i, m := range matches {
		d.Matches = append(d.Matches, matchRow{Match: m, Rank: i + 1, Percent: int(m.Score*100 + 0.5)})
	}
	d.CanInvite = d.CanAdd && pos.Status == recruit.Published
	if q := r.URL.Query(); q.Has("done") {
		n := func(k string) int { v, _ := strconv.Atoi(q.Get(k)); return max(v, 0) }
		d.Result = &recruit.MatchResult{Done: n("done"), Already: n("already"), Refused: n("refused")}
	}
	pg.Data = d
	s.render(w, r, status, "matches", pg)
}

// handleMatchesAction adds the selected matches to the pipeline or
// invites them to apply, then shows the tab again with the outcome.
func (s *Server) handleMatchesAction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	a := stateOf(r).principal.Actor()
	id, selected := r.PathValue("id"), r.PostForm["candidate"]
	var res *recruit.MatchResult
	var err error
	// Adding is the form's first button, the one Enter submits.
	if r.PostForm.Get("action") == "invite" {
		res, err = s.Recruit.InviteMatches(r.Context(), a, id, selected)
	} else {
		res, err = s.Recruit.AddMatches(r.Context(), a, id, selected)
	}
	if err != nil {
		s.refuse(w, r, onForm(err), s.newPage(r, "positions.matches"), s.renderMatches)
		return
	}
	q := url.Values{"done": {strconv.Itoa(res.Done)}, "already": {strconv.Itoa(res.Already)}, "refused": {strconv.Itoa(res.Refused)}}
	http.Redirect(w, r, "/positions/"+id+"/matches?"+q.Encode(), http.StatusSeeOther)
}
