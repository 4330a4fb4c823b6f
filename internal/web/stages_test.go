package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestBoardMoves: the owner's board offers a move form on each card (the
// keyboard and no-script way); a move from it returns to the board; the
// line manager's board offers none.
func TestBoardMoves(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	pos, rec := f.publishedPosition(t, "Engineer")
	lm, lmTok := f.roleUser("lina", access.LineManager)
	_, recTok := f.roleUserSession(t, "rolf")
	if err := f.recruit.SharePosition(ctx, rec, pos.ID, []string{lm.ID}); err != nil {
		t.Fatal(err)
	}
	app, _ := f.recruit.AddCandidate(ctx, rec, pos.ID, recruit.CandidateInput{Name: "Rita", Email: "rita@example.org"}, access.StageNew, recruit.ViaStaff)
	board := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	if !strings.Contains(board, `id="move-`+app.ID+`"`) || !strings.Contains(board, "/static/board.js") || !strings.Contains(board, `draggable="true"`) {
		t.Fatal("the owner's board has no move form")
	}
	if lmBoard := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: lmTok})); strings.Contains(lmBoard, "move-"+app.ID) || strings.Contains(lmBoard, "board.js") {
		t.Fatal("the line manager's board offers moves")
	}
	res := f.do(request{method: "POST", path: "/applications/" + app.ID + "/stage", cookie: recTok,
		form: url.Values{"stage": {"offer"}, "back": {"board"}, "position": {pos.ID}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/positions/"+pos.ID+"#pipeline" {
		t.Fatalf("move from the board: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if a, _ := f.recruit.Application(ctx, rec, app.ID); a.Stage != access.StageOffer {
		t.Fatalf("stage %s", a.Stage)
	}
}

// TestStagesThroughThePages: the company's template for new positions, a
// position's own stages, and the board showing them.
func TestStagesThroughThePages(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	_, hrTok := f.roleUser("hana", access.HRManager)
	tmpl := url.Values{"stage_keep_0": {"1"}, "stage_name_0": {"Inbox"}, "stage_kind_0": {"new"}, "stage_order_0": {"0"},
		"stage_keep_1": {"1"}, "stage_kind_1": {"interview"}, "stage_order_1": {"1"},
		"stage_keep_2": {"1"}, "stage_kind_2": {"rejected"}, "stage_order_2": {"2"}}
	if res := f.do(request{method: "POST", path: "/settings/stages", cookie: hrTok, form: tmpl}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("template: %d %s", res.StatusCode, body(t, res))
	}
	bad := url.Values{"stage_keep_0": {"1"}, "stage_kind_0": {"interview"}, "stage_keep_1": {"1"}, "stage_kind_1": {"hired"}}
	if res := f.do(request{method: "POST", path: "/settings/stages", cookie: hrTok, form: bad}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("template without new and rejected: %d", res.StatusCode)
	}
	pos, rec := f.publishedPosition(t, "Engineer")
	_, recTok := f.roleUserSession(t, "rolf")
	stages, _ := f.recruit.Stages(ctx, rec, pos.ID)
	if len(stages) != 3 || stages[0].Name != "Inbox" {
		t.Fatalf("the position did not get the template: %+v", stages)
	}
	form := url.Values{}
	for i, st := range stages {
		n := fmt.Sprint(i)
		form.Set("stage_id_"+n, st.ID)
		form.Set("stage_order_"+n, n)
		form.Set("stage_kind_"+n, string(st.Kind))
	}
	form.Set("stage_name_3", "Home assignment")
	form.Set("stage_kind_3", "interview")
	form.Set("stage_order_3", "0") // with the inbox, so right after it
	res := f.do(request{method: "POST", path: "/positions/" + pos.ID + "/stages", cookie: recTok, form: form})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("position stages: %d %s", res.StatusCode, body(t, res))
	}
	board := body(t, f.do(request{method: "GET", path: "/positions/" + pos.ID, cookie: recTok}))
	if i, j := strings.Index(board, "Home assignment"), strings.Index(board, ">Interview"); i < 0 || j < 0 || i > j {
		t.Fatal("the board does not show the new stage before the interview")
	}
}
