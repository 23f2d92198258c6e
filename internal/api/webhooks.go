package api

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// Webhooks: the tenant's endpoints, their secrets (shown once, at creation
// and at rotation), the delivery log and the test event.

// webhookWithSecret is a webhook with its secret: only in the answers that
// make one.
type webhookWithSecret struct {
	*roster.Webhook
	Secret string `json:"secret"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	hooks, err := s.svc.ListWebhooks(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeWhole(s, w, r, hooks, sortKeys[roster.Webhook]{
		"url":         byText(func(x roster.Webhook) string { return x.URL }),
		"description": byText(func(x roster.Webhook) string { return x.Description }),
		"created_at":  byInt(func(x roster.Webhook) int64 { return x.CreatedAt.UnixMilli() }),
		"updated_at":  byInt(func(x roster.Webhook) int64 { return x.UpdatedAt.UnixMilli() }),
	})
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.WebhookInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	hook, secret, err := s.svc.CreateWebhook(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusCreated, webhookWithSecret{hook, secret})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		hook, err := s.svc.Webhook(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, hook)
		}
		return err
	})
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		var in roster.WebhookInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		hook, err := s.svc.UpdateWebhook(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, hook)
		}
		return err
	})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		err := s.svc.DeleteWebhook(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		hook, secret, err := s.svc.RotateWebhookSecret(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, webhookWithSecret{hook, secret})
		}
		return err
	})
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		d, err := s.svc.SendTestEvent(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusAccepted, d)
		}
		return err
	})
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("webhook", w, r, func(id int64) error {
		q := r.URL.Query()
		page, err := s.svc.ListWebhookDeliveries(r.Context(), a, id, roster.DeliveryQuery{Page: q.Get("page"), PerPage: q.Get("per_page")})
		if err == nil {
			s.writeList(w, r, page)
		}
		return err
	})
}
