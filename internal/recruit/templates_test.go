package recruit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

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
