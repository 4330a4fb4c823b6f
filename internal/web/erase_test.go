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

// TestEraseFromCardAndSearch: the card's and the search's erasure ask for
// a confirmation that says it is irreversible, refuse without it, erase
// with it, and are not offered to (nor allowed for) a recruiter without
// candidates.erase.
func TestEraseFromCardAndSearch(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	_, hrTok := f.roleUser("hanna", access.HRManager)
	add := func(name, email string) *recruit.Application {
		app, err := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: name, Email: email}, access.StageNew, recruit.ViaStaff)
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	rita, sven, olga := add("Rita Erasable", "rita@example.org"), add("Sven Erasable", "sven@example.org"), add("Olga Kept", "olga@example.org")

	// The recruiter is offered nothing and refused.
	if card := body(t, f.do(request{method: "GET", path: "/applications/" + rita.ID, cookie: recTok})); strings.Contains(card, `id="candidate-erase"`) {
		t.Fatal("the recruiter is offered the erasure")
	}
	if c := f.do(request{method: "POST", path: "/applications/" + rita.ID + "/erase", cookie: recTok, form: url.Values{"confirm": {"yes"}}}).StatusCode; c != http.StatusForbidden {
		t.Fatalf("recruiter's erasure: %d", c)
	}
	// The HR manager confirms on a page that says what happens.
	card := body(t, f.do(request{method: "GET", path: "/applications/" + rita.ID, cookie: hrTok}))
	if !strings.Contains(card, `href="/applications/`+rita.ID+`/erase"`) {
		t.Fatal("the card offers no erasure")
	}
	confirm := body(t, f.do(request{method: "GET", path: "/applications/" + rita.ID + "/erase", cookie: hrTok}))
	for _, want := range []string{"Rita Erasable", "cannot be undone", "consent log", `name="confirm"`} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}
	if c := f.do(request{method: "POST", path: "/applications/" + rita.ID + "/erase", cookie: hrTok}).StatusCode; c != http.StatusUnprocessableEntity {
		t.Fatalf("erasure without confirmation: %d", c)
	}
	res := f.do(request{method: "POST", path: "/applications/" + rita.ID + "/erase", cookie: hrTok, form: url.Values{"confirm": {"yes"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("erasure: %d", res.StatusCode)
	}
	if c := f.do(request{method: "GET", path: "/applications/" + rita.ID, cookie: hrTok}).StatusCode; c != http.StatusNotFound {
		t.Fatalf("the erased card: %d", c)
	}
	if c := f.do(request{method: "POST", path: "/applications/" + rita.ID + "/erase", cookie: hrTok, form: url.Values{"confirm": {"yes"}}}).StatusCode; c != http.StatusNotFound {
		t.Fatalf("erasing twice: %d", c)
	}
	// From the search: the selection is confirmed, then erased.
	form := url.Values{"application": {sven.ID}, "filter_q": {"erasable"}}
	page := body(t, f.do(request{method: "POST", path: "/candidates/erase", cookie: hrTok, form: form}))
	if !strings.Contains(page, "cannot be undone") || !strings.Contains(page, `value="`+sven.ID+`"`) {
		t.Fatal("the search's erasure asks for no confirmation")
	}
	form.Set("confirm", "yes")
	res = f.do(request{method: "POST", path: "/candidates/erase", cookie: hrTok, form: form})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "erased=1") || !strings.Contains(res.Header.Get("Location"), "q=erasable") {
		t.Fatalf("bulk erasure: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	list := body(t, f.do(request{method: "GET", path: res.Header.Get("Location"), cookie: hrTok}))
	if !strings.Contains(list, `id="erase-result"`) || strings.Contains(list, "Sven Erasable") {
		t.Fatal("the list after the erasure")
	}
	if _, err := f.recruit.Application(ctx, rec, olga.ID); err != nil {
		t.Fatalf("the candidate not selected: %v", err)
	}
	if c := f.do(request{method: "POST", path: "/candidates/erase", cookie: hrTok, form: url.Values{"confirm": {"yes"}}}).StatusCode; c != http.StatusUnprocessableEntity {
		t.Fatalf("empty selection: %d", c)
	}
}
