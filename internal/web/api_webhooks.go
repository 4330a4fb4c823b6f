package web

import (
	"net/http"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/webhook"
)

// apiWebhook is a webhook subscription: never its signing secret.
type apiWebhook struct {
	ID          string    `json:"id"`
	URL         string    `json:"url" format:"uri"`
	Description string    `json:"description"`
	Events      []string  `json:"events" enum:"@webhookEvents"`
	Active      bool      `json:"active"`
	CreatedBy   string    `json:"created_by" doc:"Who made it: user:<id> or api_token:<id>."`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// apiWebhookCreated is a new subscription with its signing secret, which
// is shown this once.
type apiWebhookCreated struct {
	Webhook apiWebhook `json:"webhook"`
	Secret  string     `json:"secret" doc:"The signing secret (whsec_...): shown this once; verify Kandidat-Signature with it."`
}

// apiWebhookSecret is a subscription's new signing secret.
type apiWebhookSecret struct {
	Secret string `json:"secret" doc:"The new signing secret: shown this once; attempts from now on are signed with it."`
}

// apiWebhookInput subscribes a URL to events.
type apiWebhookInput struct {
	URL         string   `json:"url" format:"uri" doc:"https; a private, loopback or link-local address is refused."`
	Description string   `json:"description,omitempty"`
	Events      []string `json:"events" enum:"@webhookEvents"`
	Active      *bool    `json:"active,omitempty" doc:"Default true."`
}

// apiWebhookPatch changes a subscription: absent fields keep their value.
type apiWebhookPatch struct {
	URL         *string   `json:"url,omitempty" format:"uri"`
	Description *string   `json:"description,omitempty"`
	Events      *[]string `json:"events,omitempty" enum:"@webhookEvents"`
	Active      *bool     `json:"active,omitempty"`
}

// apiDelivery is one event sent (or to send) to a subscription.
type apiDelivery struct {
	ID             string     `json:"id" doc:"Also the Kandidat-Webhook-Id header of each attempt."`
	SubscriptionID string     `json:"subscription_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type" enum:"@webhookEvents"`
	Payload        string     `json:"payload" doc:"The JSON body sent: ids and non-personal details only."`
	Status         string     `json:"status" enum:"pending,delivered,failed"`
	Attempts       int        `json:"attempts"`
	NextTryAt      *time.Time `json:"next_try_at" doc:"Null once delivered or failed."`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastStatus     int        `json:"last_status" doc:"The receiver's HTTP status at the last attempt; 0 for none."`
	LastError      string     `json:"last_error" doc:"A class of error: timeout, refused_address, connection, tls, status, redirect, dns; empty for none."`
	CreatedAt      time.Time  `json:"created_at"`
}

func toAPIWebhook(w *webhook.Subscription) apiWebhook {
	return apiWebhook{ID: w.ID, URL: w.URL, Description: w.Description, Events: nonNil(w.Events), Active: w.Active, CreatedBy: w.CreatedBy,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

func toAPIDelivery(d *webhook.Delivery) apiDelivery {
	return apiDelivery{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType, Payload: d.Payload, Status: d.Status,
		Attempts: d.Attempts, NextTryAt: timeOrNil(d.NextTryAt), LastAttemptAt: timeOrNil(d.LastAttemptAt), LastStatus: d.LastStatus,
		LastError: d.LastError, CreatedAt: d.CreatedAt}
}

func (s *Server) apiWebhooks(a *apiRouter) {
	a.handle(apiOp{Method: http.MethodGet, Path: "/webhooks", ID: "listWebhooks", Tag: "webhooks", Summary: "List the company's webhook subscriptions (at most 25), oldest first",
		Scope: access.ManageAPITokens, Result: []apiWebhook{}}, s.apiListWebhooks)
	a.handle(apiOp{Method: http.MethodPost, Path: "/webhooks", ID: "createWebhook", Tag: "webhooks",
		Summary: "Subscribe a URL to events; the answer holds the signing secret, shown this once",
		Scope:   access.ManageAPITokens, Body: apiWebhookInput{}, Result: apiWebhookCreated{}, Status: http.StatusCreated, Errors: []int{402}}, s.apiCreateWebhook)
	a.handle(apiOp{Method: http.MethodGet, Path: "/webhooks/{id}", ID: "getWebhook", Tag: "webhooks", Summary: "Get a webhook subscription",
		Scope: access.ManageAPITokens, Result: apiWebhook{}}, s.apiGetWebhook)
	a.handle(apiOp{Method: http.MethodPatch, Path: "/webhooks/{id}", ID: "updateWebhook", Tag: "webhooks", Summary: "Change a webhook subscription",
		Scope: access.ManageAPITokens, Body: apiWebhookPatch{}, Result: apiWebhook{}, IfMatch: true}, s.apiUpdateWebhook)
	a.handle(apiOp{Method: http.MethodDelete, Path: "/webhooks/{id}", ID: "deleteWebhook", Tag: "webhooks",
		Summary: "Delete a webhook subscription and its delivery log", Scope: access.ManageAPITokens, Status: http.StatusNoContent}, s.apiDeleteWebhook)
	a.handle(apiOp{Method: http.MethodPost, Path: "/webhooks/{id}/rotate-secret", ID: "rotateWebhookSecret", Tag: "webhooks",
		Summary: "Give a subscription a new signing secret, shown this once", Scope: access.ManageAPITokens, Result: apiWebhookSecret{}}, s.apiRotateWebhookSecret)
	a.handle(apiOp{Method: http.MethodGet, Path: "/webhooks/{id}/deliveries", ID: "listWebhookDeliveries", Tag: "webhooks",
		Summary: "A subscription's delivery log, newest first", Scope: access.ManageAPITokens, Result: apiDelivery{}, Page: true,
		Query: []apiParam{apiLimitParam, apiCursorParam}}, s.apiListDeliveries)
	a.handle(apiOp{Method: http.MethodPost, Path: "/webhooks/deliveries/{id}/replay", ID: "replayWebhookDelivery", Tag: "webhooks",
		Summary: "Send a delivered or failed delivery again, as a fresh attempt (409 while it still waits for its next try)",
		Scope:   access.ManageAPITokens, Result: apiDelivery{}}, s.apiReplayDelivery)
}

func (s *Server) apiListWebhooks(c *apiCall) error {
	subs, err := s.Webhooks.Subscriptions(c.ctx(), c.actor)
	if err != nil {
		return err
	}
	out := make([]apiWebhook, 0, len(subs))
	for _, w := range subs {
		out = append(out, toAPIWebhook(w))
	}
	return c.json(out)
}

func (s *Server) apiCreateWebhook(c *apiCall) error {
	var in apiWebhookInput
	if err := c.decode(&in); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	sub, secret, err := s.Webhooks.Subscribe(c.ctx(), c.actor, webhook.Input{URL: in.URL, Description: in.Description, Events: nonNil(in.Events), Active: active})
	if err != nil {
		return err
	}
	return c.object(sub.UpdatedAt, location("webhooks", sub.ID), apiWebhookCreated{Webhook: toAPIWebhook(sub), Secret: secret})
}

func (s *Server) apiGetWebhook(c *apiCall) error {
	sub, err := s.Webhooks.Subscription(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.object(sub.UpdatedAt, "", toAPIWebhook(sub))
}

func (s *Server) apiUpdateWebhook(c *apiCall) error {
	version, err := c.ifMatch()
	if err != nil {
		return err
	}
	var in apiWebhookPatch
	if err := c.decode(&in); err != nil {
		return err
	}
	sub, err := s.Webhooks.Subscription(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	edit := webhook.Input{URL: sub.URL, Description: sub.Description, Events: sub.Events, Active: sub.Active}
	if in.URL != nil {
		edit.URL = *in.URL
	}
	if in.Description != nil {
		edit.Description = *in.Description
	}
	if in.Events != nil {
		edit.Events = nonNil(*in.Events)
	}
	if in.Active != nil {
		edit.Active = *in.Active
	}
	sub, err = s.Webhooks.UpdateIf(c.ctx(), c.actor, sub.ID, edit, version)
	if err != nil {
		return err
	}
	return c.object(sub.UpdatedAt, "", toAPIWebhook(sub))
}

func (s *Server) apiDeleteWebhook(c *apiCall) error {
	if err := s.Webhooks.Delete(c.ctx(), c.actor, c.path("id")); err != nil {
		return err
	}
	return c.noContent()
}

func (s *Server) apiRotateWebhookSecret(c *apiCall) error {
	secret, err := s.Webhooks.RotateSecret(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(apiWebhookSecret{Secret: secret})
}

func (s *Server) apiListDeliveries(c *apiCall) error {
	limit, err := c.limit()
	if err != nil {
		return err
	}
	after, err := c.cursor()
	if err != nil {
		return err
	}
	ds, next, err := s.Webhooks.Deliveries(c.ctx(), c.actor, c.path("id"), webhook.Page{After: after, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]apiDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, toAPIDelivery(d))
	}
	return writePage(c, out, next)
}

func (s *Server) apiReplayDelivery(c *apiCall) error {
	d, err := s.Webhooks.Replay(c.ctx(), c.actor, c.path("id"))
	if err != nil {
		return err
	}
	return c.json(toAPIDelivery(d))
}
