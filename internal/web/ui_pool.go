package web

import (
	"net/http"
	"net/url"

	"github.com/kandidat/kandidat/internal/recruit"
)

type poolData struct {
	Applications      []*recruit.Application
	Total             int
	TotalCapped       bool
	NextURL, FirstURL string
}

func (s *Server) handlePool(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	list, err := s.Recruit.PoolPage(r.Context(), stateOf(r).principal.Actor(), after, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.newPage(r, "pool.title")
	d := poolData{Applications: list.Applications, Total: list.Total, TotalCapped: list.TotalCapped}
	d.NextURL, d.FirstURL = pageLinks(r.URL.Path, url.Values{}, list.Next, after)
	pg.Data = d
	s.render(w, r, http.StatusOK, "pool", pg)
}
