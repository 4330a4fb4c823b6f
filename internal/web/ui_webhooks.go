package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/kandidat/kandidat/internal/webhook"
)

// The company's webhooks (api.tokens, api module): the subscriptions, a
// new one's signing secret shown once, the form of one with its delivery
// log (status code, attempts, next try) and a replay per finished
// delivery. docs/webhooks.md is the receivers' side.

// eventChoice is one event type's checkbox.
type eventChoice struct {
	Type    string
	Checked bool
}

func eventChoices(checked []string) []eventChoice {
	out := make([]eventChoice, len(webhook.EventTypes))
	for i, t := range webhook.EventTypes {
		out[i] = eventChoice{Type: t, Checked: slices.Contains(checked, t)}
	}
	return out
}

// webhooksData is the list page, with the form of a new subscription.
type webhooksData struct {
	Subs    []*webhook.Subscription
	Choices []eventChoice
	// Secret is a new subscription's signing secret, shown this once.
	Secret  string
	Created *webhook.Subscription
	Deleted bool
}

func (s *Server) webhooksPage(r *http.Request, checked []string) (*page, error) {
	subs, err := s.Webhooks.Subscriptions(r.Context(), stateOf(r).principal.Actor())
	if err != nil {
		return nil, err
	}
	pg := s.newPage(r, "webhook.title")
	pg.Data = webhooksData{Subs: subs, Choices: eventChoices(checked), Deleted: r.URL.Query().Get("deleted") == "1"}
	return pg, nil
}

func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	pg, err := s.webhooksPage(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg.Form["active"] = "1"
	s.render(w, r, http.StatusOK, "webhooks", pg)
}

func webhookInput(r *http.Request) webhook.Input {
	f := r.PostForm
	return webhook.Input{URL: f.Get("url"), Description: f.Get("description"), Events: f["events"], Active: f.Get("active") == "1"}
}

func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in := webhookInput(r)
	sub, secret, err := s.Webhooks.Subscribe(r.Context(), stateOf(r).principal.Actor(), in)
	pg, perr := s.webhooksPage(r, in.Events)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	if err != nil {
		s.refuse(w, r, err, pg, s.show("webhooks"))
		return
	}
	d := pg.Data.(webhooksData)
	d.Secret, d.Created, d.Choices = secret, sub, eventChoices(nil)
	pg.Data = d
	pg.Form["active"] = "1"
	s.render(w, r, http.StatusOK, "webhooks", pg)
}

// deliveryView is a row of the delivery log, times in the company's zone.
type deliveryView struct {
	D                   *webhook.Delivery
	Created, Last, Next string
	Replayable          bool
}

// webhookData is a subscription's page: its form and its delivery log.
type webhookData struct {
	Sub                *webhook.Subscription
	Choices            []eventChoice
	Deliveries         []deliveryView
	NextURL, FirstURL  string
	Secret             string
	Saved, Replayed    bool
	MaxAttempts        int
	ReplayWindowMinute int
}

func (s *Server) webhookPage(r *http.Request, subID string) (*page, error) {
	actor := stateOf(r).principal.Actor()
	sub, err := s.Webhooks.Subscription(r.Context(), actor, subID)
	if err != nil {
		return nil, err
	}
	after := r.URL.Query().Get("after")
	list, next, err := s.Webhooks.Deliveries(r.Context(), actor, sub.ID, webhook.Page{After: after, Limit: 50})
	if err != nil {
		return nil, err
	}
	loc := stateOf(r).tenant.Location()
	show := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	d := webhookData{Sub: sub, Choices: eventChoices(sub.Events), Saved: r.URL.Query().Get("saved") == "1",
		Replayed: r.URL.Query().Get("replayed") == "1", MaxAttempts: webhook.MaxAttempts}
	for _, del := range list {
		d.Deliveries = append(d.Deliveries, deliveryView{D: del, Created: show(del.CreatedAt), Last: show(del.LastAttemptAt),
			Next: show(del.NextTryAt), Replayable: del.Status != webhook.Pending})
	}
	if next != "" {
		d.NextURL = "/settings/webhooks/" + sub.ID + "?after=" + next
	}
	if after != "" {
		d.FirstURL = "/settings/webhooks/" + sub.ID
	}
	pg := s.newPage(r, "webhook.edit_title")
	pg.Form["url"], pg.Form["description"] = sub.URL, sub.Description
	if sub.Active {
		pg.Form["active"] = "1"
	}
	pg.Data = d
	return pg, nil
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	pg, err := s.webhookPage(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "webhooks_edit", pg)
}

func (s *Server) handleWebhookSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	in := webhookInput(r)
	_, err := s.Webhooks.Update(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"), in)
	if err != nil {
		pg, perr := s.webhookPage(r, r.PathValue("id"))
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		d := pg.Data.(webhookData)
		d.Choices = eventChoices(in.Events)
		pg.Data = d
		delete(pg.Form, "active")
		s.refuse(w, r, err, pg, s.show("webhooks_edit"))
		return
	}
	http.Redirect(w, r, "/settings/webhooks/"+r.PathValue("id")+"?saved=1", http.StatusSeeOther)
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Webhooks.Delete(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/webhooks?deleted=1", http.StatusSeeOther)
}

func (s *Server) handleWebhookRotate(w http.ResponseWriter, r *http.Request) {
	secret, err := s.Webhooks.RotateSecret(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.webhookPage(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := pg.Data.(webhookData)
	d.Secret = secret
	pg.Data = d
	s.render(w, r, http.StatusOK, "webhooks_edit", pg)
}

func (s *Server) handleWebhookReplay(w http.ResponseWriter, r *http.Request) {
	d, err := s.Webhooks.Replay(r.Context(), stateOf(r).principal.Actor(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/webhooks/"+d.SubscriptionID+"?replayed=1", http.StatusSeeOther)
}
