package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestCandidateListPage: the list with a filter, and a bulk label.
func TestCandidateListPage(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, tok := f.roleUserSession(t, "rolf")
	a1, _ := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Anna <i>Alpha</i>", Email: "anna@example.org"}, access.StageNew, recruit.ViaStaff)
	a2, _ := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Bert Beta", Email: "bert@example.org"}, access.StageOffer, recruit.ViaStaff)
	list := body(t, f.do(request{method: "GET", path: "/candidates?stage=offer", cookie: tok}))
	if !strings.Contains(list, "Bert Beta") || strings.Contains(list, "Alpha") {
		t.Fatal("the stage filter does not work")
	}
	if res := f.do(request{method: "GET", path: "/candidates?stage=emperor", cookie: tok}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown stage: %d", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/candidates/bulk", cookie: tok, form: url.Values{"application": {a1.ID, a2.ID}, "action": {"label"},
		"label": {"shortlist"}, "filter_stage": {"offer"}}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "stage=offer") || !strings.Contains(res.Header.Get("Location"), "done=2") {
		t.Fatalf("bulk label: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	all := body(t, f.do(request{method: "GET", path: "/candidates?label=shortlist", cookie: tok}))
	if !strings.Contains(all, "Anna &lt;i&gt;Alpha&lt;/i&gt;") || !strings.Contains(all, "Bert Beta") {
		t.Fatal("the label filter does not find the bulk-labelled candidates")
	}
}
