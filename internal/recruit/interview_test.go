package recruit_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

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
