package recruit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
)

// queuedMessages returns the emails waiting in the queue, oldest first.
func (e *env) queuedMessages(t *testing.T) []notify.Message {
	t.Helper()
	rows, err := e.db.Read.Query(`SELECT message FROM email_queue ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var raw string
		rows.Scan(&raw)
		var m notify.Message
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestInterviewInvitationAnswerAndReminder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Date(2031, 5, 10, 9, 0, 0, 0, time.UTC)
	e.svc.SetClock(func() time.Time { return now })
	pos := e.position(t, "recruiter2", "Engineer")
	lm := e.users[access.LineManager]
	if err := e.svc.SharePosition(ctx, e.users["recruiter2"], pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Ivan Interview", "ivan@example.org", access.StageInterview)
	in := recruit.InterviewInput{Date: "2031-05-12", Time: "14:30", TimeZone: "Europe/Stockholm", Minutes: 60, Location: "Office, Sveavägen 1; room 3",
		Participants: []string{lm.UserID}, Note: "Bring a laptop."}
	var ve *fault.Invalid
	for name, bad := range map[string]func(*recruit.InterviewInput){
		"past":          func(i *recruit.InterviewInput) { i.Date = "2031-05-01" },
		"no such zone":  func(i *recruit.InterviewInput) { i.TimeZone = "Mars/Olympus" },
		"bad time":      func(i *recruit.InterviewInput) { i.Time = "25:99" },
		"too short":     func(i *recruit.InterviewInput) { i.Minutes = 5 },
		"nowhere":       func(i *recruit.InterviewInput) { i.Location = "" },
		"plain link":    func(i *recruit.InterviewInput) { i.VideoLink = "http://meet.example/abc" },
		"script link":   func(i *recruit.InterviewInput) { i.VideoLink = "javascript:alert(1)" },
		"foreign guest": func(i *recruit.InterviewInput) { i.Participants = []string{e.users["foreign"].UserID} },
	} {
		bad := bad
		i := in
		bad(&i)
		if _, err := e.svc.InviteInterview(ctx, lm, app.ID, i); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	// A recruiter who sees the candidate only through the pool may not invite.
	if _, err := e.svc.InviteInterview(ctx, e.users[access.Recruiter], app.ID, in); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("pool recruiter invites: %v", err)
	}
	// With no --base-url, serve gives every service the address it derived
	// from its listener: the link in the email is absolute.
	e.svc.SetBaseURL("http://127.0.0.1:8080/")
	// The line manager of the shared position may.
	iv, err := e.svc.InviteInterview(ctx, lm, app.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Start.UTC() != time.Date(2031, 5, 12, 12, 30, 0, 0, time.UTC) {
		t.Fatalf("start %v, want 14:30 in Stockholm (12:30 UTC)", iv.Start.UTC())
	}
	msgs := e.queuedMessages(t)
	if len(msgs) != 1 || msgs[0].To[0] != "ivan@example.org" || len(msgs[0].Attachments) != 1 {
		t.Fatalf("queued: %+v", msgs)
	}
	ics := string(msgs[0].Attachments[0].Data)
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "METHOD:REQUEST\r\n", "DTSTART:20310512T123000Z\r\n", "DTEND:20310512T133000Z\r\n",
		`LOCATION:Office\, Sveavägen 1\; room 3`, "ATTENDEE;ROLE=REQ-PARTICIPANT"} {
		if !strings.Contains(ics, want) {
			t.Errorf("calendar file lacks %q:\n%s", want, ics)
		}
	}
	link := regexp.MustCompile(`http://127\.0\.0\.1:8080/interview/([A-Za-z0-9_-]{43})`).FindStringSubmatch(msgs[0].Text)
	if link == nil || !strings.Contains(msgs[0].Text, "2031-05-12 14:30 (Europe/Stockholm)") {
		t.Fatalf("email text:\n%s", msgs[0].Text)
	}
	token := link[1]
	list, err := e.svc.Interviews(ctx, e.users["recruiter2"], app.ID)
	if err != nil || len(list) != 1 || list[0].Status != recruit.InterviewInvited || list[0].Participants[0] != lm.UserID {
		t.Fatalf("interviews: %+v %v", list, err)
	}
	if _, err := e.svc.Interviews(ctx, e.users["foreign"], app.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company's interviews: %v", err)
	}
	// The candidate answers through the link.
	if _, err := e.svc.RespondToInterview(ctx, "no-such-token", recruit.InterviewAccepted, ""); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := e.svc.RespondToInterview(ctx, token, "maybe", ""); !errors.As(err, &ve) {
		t.Fatalf("unknown answer: %v", err)
	}
	pub, err := e.svc.RespondToInterview(ctx, token, recruit.InterviewAccepted, "See you there")
	if err != nil || pub.Status != recruit.InterviewAccepted || pub.PositionTitle != "Engineer" {
		t.Fatalf("accept: %+v %v", pub, err)
	}
	if list, _ := e.svc.Interviews(ctx, lm, app.ID); list[0].Status != recruit.InterviewAccepted || list[0].ResponseNote != "See you there" {
		t.Fatalf("after accepting: %+v", list[0])
	}
	// A reminder the day before, once.
	now = time.Date(2031, 5, 11, 13, 0, 0, 0, time.UTC)
	if n, err := e.svc.SendInterviewReminders(ctx); err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	if n, _ := e.svc.SendInterviewReminders(ctx); n != 0 {
		t.Fatalf("second round of reminders: %d", n)
	}
	msgs = e.queuedMessages(t)
	if last := msgs[len(msgs)-1]; last.To[0] != "ivan@example.org" || !strings.Contains(last.Text, "14:30") {
		t.Fatalf("reminder: %+v", last)
	}
	// A day after the interview the link no longer works.
	now = time.Date(2031, 5, 13, 13, 0, 0, 0, time.UTC)
	if _, err := e.svc.InterviewByToken(ctx, token); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("expired link: %v", err)
	}
}

func TestCalendarFile(t *testing.T) {
	ev := recruit.Event{UID: "x@kandidat", Start: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2031, 1, 2, 4, 4, 5, 0, time.UTC),
		Stamp: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), Summary: strings.Repeat("Intervjuv pre pozíciu, ", 10), Description: "line one\nline two; a, b\\c"}
	ics := string(ev.ICS())
	for _, line := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
	if strings.Contains(strings.ReplaceAll(ics, "\r\n", ""), "\n") {
		t.Error("a bare line feed")
	}
	unfolded := strings.ReplaceAll(ics, "\r\n ", "")
	if !strings.Contains(unfolded, `DESCRIPTION:line one\nline two\; a\, b\\c`) || !strings.Contains(unfolded, "SUMMARY:"+strings.ReplaceAll(ev.Summary, ",", `\,`)) {
		t.Errorf("escaping or folding is wrong:\n%s", unfolded)
	}
}

// TestCardRatingsLabelsNotesAndHistory: who may rate, label and keep
// notes; notes are private; rejecting needs a reason; the history lists
// what happened.
func TestCardRatingsLabelsNotesAndHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, "recruiter2", "Engineer")
	lm, owner := e.users[access.LineManager], e.users["recruiter2"]
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Rita", "rita@example.org", access.StagePreselected)
	var ve *fault.Invalid
	if err := e.svc.Rate(ctx, lm, app.ID, "brilliant"); !errors.As(err, &ve) {
		t.Fatalf("unknown rating: %v", err)
	}
	for _, v := range []string{recruit.RateLater, recruit.RateInvite} { // the second replaces the first
		if err := e.svc.Rate(ctx, lm, app.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Rate(ctx, e.users[access.Recruiter], app.ID, recruit.RateInvite); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a pool recruiter rates: %v", err)
	}
	if err := e.svc.AddLabel(ctx, lm, app.ID, "senior"); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a line manager labels: %v", err)
	}
	for _, l := range []string{"senior", "go", "senior"} {
		if err := e.svc.AddLabel(ctx, owner, app.ID, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.AddLabel(ctx, owner, app.ID, strings.Repeat("x", 41)); !errors.As(err, &ve) {
		t.Fatalf("long label: %v", err)
	}
	if err := e.svc.RemoveLabel(ctx, owner, app.ID, "go"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddNote(ctx, lm, app.ID, "Reminds me of Ada."); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{Kind: access.StageRejected}); !errors.As(err, &ve) || ve.Fields["reason"] == "" {
		t.Fatalf("rejecting without a reason: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "position_filled"}); err != nil {
		t.Fatal(err)
	}
	lmCard, err := e.svc.Card(ctx, lm, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(lmCard.Ratings) != 1 || lmCard.Ratings[0].Value != recruit.RateInvite || len(lmCard.Notes) != 1 || strings.Join(lmCard.Labels, ",") != "senior" {
		t.Fatalf("line manager's card: %+v", lmCard)
	}
	ownerCard, err := e.svc.Card(ctx, owner, app.ID)
	if err != nil || len(ownerCard.Notes) != 0 {
		t.Fatalf("the owner sees another's private note: %+v %v", ownerCard, err)
	}
	var actions []string
	for _, r := range ownerCard.History {
		actions = append(actions, string(r.Action))
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"application.stage_changed", "application.labeled", "application.rated", "application.created", "application.note_added"} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %s: %s", want, got)
		}
	}
	for _, r := range ownerCard.History { // a private note is audited, its text never
		if strings.Contains(fmt.Sprint(r.Details), "Ada") {
			t.Errorf("a record carries the note's text: %+v", r)
		}
	}
	if a, _ := e.svc.Application(ctx, owner, app.ID); a.RejectionReason != "position_filled" {
		t.Fatalf("rejection reason %q", a.RejectionReason)
	}
	if _, err := e.svc.Card(ctx, e.users["foreign"], app.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company's card: %v", err)
	}
	view, err := e.svc.CardView(ctx, lm, app.ID)
	if err != nil || len(view.Details.Notes) != 1 || len(view.Details.Ratings) != 1 || view.Stages != nil || len(view.Reasons) == 0 || len(view.Details.History) == 0 {
		t.Fatalf("the line manager's card view: %+v %v", view, err)
	}
	if view, err := e.svc.CardView(ctx, owner, app.ID); err != nil || len(view.Stages) != len(access.StageKinds) || len(view.Details.Notes) != 0 {
		t.Fatalf("the owner's card view: %+v %v", view, err)
	}
	if _, err := e.svc.CardView(ctx, e.users["foreign"], app.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company's card view: %v", err)
	}
}

// TestCandidateListAndBulk: the list shows what each role may see, with
// filters; a bulk action changes what the actor may change and counts the rest.
func TestCandidateListAndBulk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	own := e.position(t, access.Recruiter, "Own")
	other := e.position(t, "recruiter2", "Other")
	a1 := e.apply(t, access.Recruiter, own.ID, "Anna Alpha", "anna@example.org", access.StageNew)
	e.apply(t, access.Recruiter, own.ID, "Bert Beta", "bert@example.org", access.StageInterview)
	c1 := e.apply(t, "recruiter2", other.ID, "Cecil Gamma", "cecil@example.org", access.StageInterview)
	e.apply(t, "recruiter2", other.ID, "Dora Delta", "dora@example.org", access.StageNew)
	names := func(apps []*recruit.Application) string {
		var out []string
		for _, a := range apps {
			out = append(out, a.Candidate.Name)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	rec := e.users[access.Recruiter]
	for _, tc := range []struct {
		who  string
		f    recruit.ListFilter
		want string
	}{
		{access.Recruiter, recruit.ListFilter{}, "Anna Alpha,Bert Beta,Cecil Gamma"}, // own, plus the other's pool candidate
		{access.HRManager, recruit.ListFilter{}, "Anna Alpha,Bert Beta,Cecil Gamma,Dora Delta"},
		{access.HRManager, recruit.ListFilter{Text: "GAMMA"}, "Cecil Gamma"},
		{access.HRManager, recruit.ListFilter{Text: "dora@"}, "Dora Delta"},
		{access.HRManager, recruit.ListFilter{Text: "%"}, ""},
		{access.HRManager, recruit.ListFilter{Stage: access.StageInterview, PositionID: own.ID}, "Bert Beta"},
		{access.LineManager, recruit.ListFilter{}, ""},
		{"foreign", recruit.ListFilter{}, ""},
	} {
		got, err := e.svc.ListApplications(ctx, e.users[tc.who], tc.f)
		if err != nil || names(got) != tc.want {
			t.Errorf("%s %+v: %q %v, want %q", tc.who, tc.f, names(got), err, tc.want)
		}
	}
	if _, err := e.svc.ListApplications(ctx, e.users[access.CaseHandler], recruit.ListFilter{}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("case handler's list: %v", err)
	}
	res, err := e.svc.Bulk(ctx, rec, []string{a1.ID, c1.ID, "nope"}, recruit.BulkAction{Kind: "reject", Reason: "other"})
	if err != nil || res.Done != 1 || res.Refused != 2 {
		t.Fatalf("bulk reject: %+v %v", res, err)
	}
	var ve *fault.Invalid
	if _, err := e.svc.Bulk(ctx, rec, []string{a1.ID}, recruit.BulkAction{Kind: "reject"}); !errors.As(err, &ve) {
		t.Fatalf("bulk reject without a reason: %v", err)
	}
	if _, err := e.svc.Bulk(ctx, rec, nil, recruit.BulkAction{Kind: "label", Label: "x"}); !errors.As(err, &ve) {
		t.Fatalf("empty selection: %v", err)
	}
	if got, _ := e.svc.ListApplications(ctx, rec, recruit.ListFilter{Stage: access.StageRejected}); names(got) != "Anna Alpha" {
		t.Fatalf("after the bulk rejection: %s", names(got))
	}
}

// TestTemplatesAndCommunicationHistory: a company's own rejection email
// with its variables; the email and how its delivery went on the card.
func TestTemplatesAndCommunicationHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr, rec := e.users[access.HRManager], e.users[access.Recruiter]
	pos := e.position(t, access.Recruiter, "Engineer")
	app := e.apply(t, access.Recruiter, pos.ID, "Rita", "rita@example.org", access.StageNew)
	var ve *fault.Invalid
	if err := e.svc.SaveTemplate(ctx, rec, recruit.TemplateRejection, "en", "S", "B"); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a recruiter changes the wording: %v", err)
	}
	if err := e.svc.SaveTemplate(ctx, hr, recruit.TemplateRejection, "en", "About {position}", "Hello {name}, your {url}"); !errors.As(err, &ve) {
		t.Fatalf("unknown variable: %v", err)
	}
	if err := e.svc.SaveTemplate(ctx, hr, recruit.TemplateRejection, "en", "About {position}", "Hello {name},\nno thanks from {company}. {braces} stay."); !errors.As(err, &ve) {
		t.Fatalf("unknown variable in braces: %v", err)
	}
	if err := e.svc.SaveTemplate(ctx, hr, recruit.TemplateRejection, "en", "About {position}", "Hello {name},\nno thanks from {company}."); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Templates(ctx, hr)
	if err != nil || len(list) != len(recruit.TemplateKinds)*5 {
		t.Fatalf("templates: %d %v", len(list), err)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "other", Notify: true}); err != nil {
		t.Fatal(err)
	}
	msgs := e.queuedMessages(t)
	last := msgs[len(msgs)-1]
	if last.To[0] != "rita@example.org" || last.Subject != "About Engineer" || last.Text != "Hello Rita,\nno thanks from Acme." {
		t.Fatalf("rejection email: %+v", last)
	}
	history, err := e.svc.Messages(ctx, rec, app.ID)
	if err != nil || len(history) != 1 || history[0].Status != "queued" || history[0].Kind != recruit.TemplateRejection {
		t.Fatalf("messages: %+v %v", history, err)
	}
	var queueID string
	e.db.Read.QueryRow(`SELECT queue_id FROM messages WHERE id = $1`, history[0].ID).Scan(&queueID)
	if err := e.svc.MessageDelivered(ctx, e.tenantID, queueID, false, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.svc.Messages(ctx, rec, app.ID); h[0].Status != "retrying" {
		t.Fatalf("after a failed attempt: %s", h[0].Status)
	}
	if err := e.svc.MessageDelivered(ctx, e.tenantID, queueID, true, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.svc.Messages(ctx, rec, app.ID); h[0].Status != "sent" {
		t.Fatalf("after delivery: %s", h[0].Status)
	}
	// Back to the standard wording.
	if err := e.svc.SaveTemplate(ctx, hr, recruit.TemplateRejection, "en", "", ""); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.svc.Templates(ctx, hr); list[len(recruit.TemplateKinds)].Custom {
		t.Fatal("the reset wording is still custom")
	}
}

// TestTasks: colleagues who may comment add tasks; the assignee sees them
// among their open tasks until done.
func TestTasks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pos := e.position(t, "recruiter2", "Engineer")
	lm, owner := e.users[access.LineManager], e.users["recruiter2"]
	if err := e.svc.SharePosition(ctx, owner, pos.ID, []string{lm.UserID}); err != nil {
		t.Fatal(err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Tom", "tom@example.org", access.StageInterview)
	var ve *fault.Invalid
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", DueOn: "soon"}); !errors.As(err, &ve) {
		t.Fatalf("bad date: %v", err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "x", AssigneeID: e.users["foreign"].UserID}); !errors.As(err, &ve) {
		t.Fatalf("another company's assignee: %v", err)
	}
	if err := e.svc.AddTask(ctx, e.users[access.Recruiter], app.ID, recruit.TaskInput{Title: "x"}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a pool recruiter adds a task: %v", err)
	}
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Call references", DueOn: "2031-06-01", AssigneeID: lm.UserID}); err != nil {
		t.Fatal(err)
	}
	mine, err := e.svc.MyTasks(ctx, lm)
	if err != nil || len(mine) != 1 || mine[0].CandidateName != "Tom" || mine[0].DueOn != "2031-06-01" {
		t.Fatalf("the line manager's tasks: %+v %v", mine, err)
	}
	if err := e.svc.SetTaskDone(ctx, lm, mine[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if mine, _ := e.svc.MyTasks(ctx, lm); len(mine) != 0 {
		t.Fatalf("a done task is still open: %+v", mine)
	}
	if err := e.svc.SetTaskDone(ctx, e.users["foreign"], mine0(t, e, owner, app.ID), false); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("another company reopens the task: %v", err)
	}
	// A task on an application the assignee may no longer see is not listed.
	if err := e.svc.AddTask(ctx, owner, app.ID, recruit.TaskInput{Title: "Second call", AssigneeID: lm.UserID}); err != nil {
		t.Fatal(err)
	}
	if mine, _ := e.svc.MyTasks(ctx, lm); len(mine) != 1 {
		t.Fatalf("open tasks before unsharing: %d", len(mine))
	}
	if err := e.svc.SharePosition(ctx, owner, pos.ID, nil); err != nil {
		t.Fatal(err)
	}
	if mine, err := e.svc.MyTasks(ctx, lm); err != nil || len(mine) != 0 {
		t.Fatalf("tasks of a position no longer shared: %+v %v", mine, err)
	}
}

func mine0(t *testing.T, e *env, a access.Actor, appID string) string {
	t.Helper()
	tasks, err := e.svc.Tasks(context.Background(), a, appID)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks: %v %v", tasks, err)
	}
	return tasks[0].ID
}

// TestPipelineStages: a position's own stages, from the company template;
// renaming, adding, reordering and removing; a move to a custom stage; the
// kind of a stage still decides the shared pool.
func TestPipelineStages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr, owner := e.users[access.HRManager], e.users["recruiter2"]
	var ve *fault.Invalid
	if err := e.svc.SetStageTemplate(ctx, owner, nil); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a recruiter sets the template: %v", err)
	}
	if err := e.svc.SetStageTemplate(ctx, hr, []recruit.StageInput{{Kind: access.StageInterview}, {Kind: access.StageHired}}); !errors.As(err, &ve) {
		t.Fatalf("a template without new and rejected: %v", err)
	}
	if err := e.svc.SetStageTemplate(ctx, hr, []recruit.StageInput{{Name: "Received", Kind: access.StageNew}, {Name: "Phone screen", Kind: access.StagePreselected},
		{Kind: access.StageInterview}, {Kind: access.StageHired}, {Kind: access.StageRejected}}); err != nil {
		t.Fatal(err)
	}
	pos := e.position(t, "recruiter2", "Engineer")
	stages, err := e.svc.Stages(ctx, owner, pos.ID)
	if err != nil || len(stages) != 5 || stages[0].Name != "Received" || stages[1].Kind != access.StagePreselected {
		t.Fatalf("stages from the template: %+v %v", stages, err)
	}
	app := e.apply(t, "recruiter2", pos.ID, "Sam", "sam@example.org", access.StageNew)
	if app.StageID != stages[0].ID {
		t.Fatalf("a new application is at %q, want the first new stage %q", app.StageID, stages[0].ID)
	}
	// Add "Technical interview" after the interview, rename one, reorder.
	edits := []recruit.StageEdit{{ID: stages[0].ID, Name: "Received"}, {ID: stages[1].ID, Name: "Call"}, {ID: stages[2].ID},
		{Name: "Technical interview", Kind: access.StageInterview}, {ID: stages[3].ID}, {ID: stages[4].ID}}
	if err := e.svc.SetStages(ctx, owner, pos.ID, edits); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStages(ctx, e.users[access.LineManager], pos.ID, edits); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager without the position edits stages: %v", err)
	}
	stages, _ = e.svc.Stages(ctx, owner, pos.ID)
	if len(stages) != 6 || stages[1].Name != "Call" || stages[3].Name != "Technical interview" {
		t.Fatalf("after editing: %+v", stages)
	}
	// A stage with candidates, or the last stage for new applications, stays.
	if err := e.svc.SetStages(ctx, owner, pos.ID, []recruit.StageEdit{{ID: stages[1].ID}, {ID: stages[5].ID}, {Name: "In", Kind: access.StageNew}}); !errors.As(err, &ve) || ve.Fields["stages"] != "error.stage_in_use" {
		t.Fatalf("removing a stage with a candidate: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: stages[3].ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Application(ctx, owner, app.ID)
	if got.StageID != stages[3].ID || got.Stage != access.StageInterview || got.StageName != "Technical interview" {
		t.Fatalf("after the move: %s %s %q", got.StageID, got.Stage, got.StageName)
	}
	// The kind decides the pool: another recruiter now sees the candidate.
	if _, err := e.svc.Application(ctx, e.users[access.Recruiter], app.ID); err != nil {
		t.Fatalf("an interviewed candidate is not in the pool: %v", err)
	}
	other := e.position(t, access.HRManager, "Other")
	otherStages, _ := e.svc.Stages(ctx, hr, other.ID)
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: otherStages[0].ID}); !errors.As(err, &ve) {
		t.Fatalf("a stage of another position: %v", err)
	}
	if err := e.svc.Move(ctx, owner, app.ID, recruit.MoveInput{StageID: stages[5].ID}); !errors.As(err, &ve) || ve.Fields["reason"] == "" {
		t.Fatalf("a rejection stage without a reason: %v", err)
	}
}

// TestReasonsEmploymentAndArchive: a company's own reasons for rejecting;
// the employment type of a position; archiving.
func TestReasonsEmploymentAndArchive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr, rec := e.users[access.HRManager], e.users[access.Recruiter]
	var ve *fault.Invalid
	if _, err := e.svc.CreatePosition(ctx, rec, recruit.PositionInput{Title: "X", Language: "en", EmploymentType: "slavery"}); !errors.As(err, &ve) {
		t.Fatalf("unknown employment type: %v", err)
	}
	pos, err := e.svc.CreatePosition(ctx, rec, recruit.PositionInput{Title: "Intern", Language: "en", EmploymentType: "internship"})
	if err != nil || pos.EmploymentType != "internship" {
		t.Fatalf("position: %+v %v", pos, err)
	}
	app := e.apply(t, access.Recruiter, pos.ID, "Ola", "ola@example.org", access.StageNew)
	if err := e.svc.SetReasons(ctx, rec, []string{"x"}); !errors.Is(err, recruit.ErrForbidden) {
		t.Fatalf("a recruiter sets the reasons: %v", err)
	}
	if err := e.svc.SetReasons(ctx, hr, []string{"Chose another offer", "", "Chose another offer", "No work permit"}); err != nil {
		t.Fatal(err)
	}
	reasons, _ := e.svc.Reasons(ctx, rec)
	if len(reasons) != 2 || reasons[0].Name != "Chose another offer" {
		t.Fatalf("reasons: %+v", reasons)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: "salary"}); !errors.As(err, &ve) {
		t.Fatalf("a standard reason the company no longer offers: %v", err)
	}
	if err := e.svc.Move(ctx, rec, app.ID, recruit.MoveInput{Kind: access.StageRejected, Reason: reasons[1].ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Application(ctx, rec, app.ID)
	if name, _ := recruit.ReasonLabel(reasons, got.RejectionReason); name != "No work permit" {
		t.Fatalf("rejection reason %q", name)
	}
	// Renaming nothing keeps the ids.
	if err := e.svc.SetReasons(ctx, hr, []string{"No work permit", "Other"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.svc.Reasons(ctx, rec); again[0].ID != reasons[1].ID {
		t.Fatal("a kept reason changed its id")
	}
	if err := e.svc.SetReasons(ctx, hr, nil); err != nil {
		t.Fatal(err)
	}
	if std, _ := e.svc.Reasons(ctx, rec); len(std) != len(recruit.RejectionReasons) || std[0].Name != "" {
		t.Fatalf("back to the standard reasons: %+v", std)
	}
	// Archive: a draft may be archived, an archived position not published.
	if err := e.svc.Archive(ctx, e.users[access.LineManager], pos.ID); !errors.Is(err, recruit.ErrNotFound) {
		t.Fatalf("a line manager archives: %v", err)
	}
	if err := e.svc.Archive(ctx, rec, pos.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Publish(ctx, rec, pos.ID); !errors.Is(err, recruit.ErrState) {
		t.Fatalf("publishing an archived position: %v", err)
	}
	if err := e.svc.Archive(ctx, rec, pos.ID); !errors.Is(err, recruit.ErrState) {
		t.Fatalf("archiving twice: %v", err)
	}
}
