package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Webhooks: the list with a form for a new one (its secret shown once),
// one webhook's settings and delivery log, "send test event", rotating the
// secret and deleting after a confirmation. The core decides who may
// (webhooks.manage through a tenant-wide role).

// webhookForm is a webhook form as typed.
type webhookForm struct {
	URL, Description string
	Events           []string
	Enabled          bool
}

type webhooksData struct {
	Webhooks []roster.Webhook
	Events   []string
	Form     webhookForm
}

type webhookData struct {
	Webhook    *roster.Webhook
	Events     []string
	Form       webhookForm
	Deliveries *roster.Page[roster.WebhookDelivery]
	Newer      int // the page of newer deliveries, 0: none
	Older      int // the page of older deliveries, 0: none
}

// webhookSecretData shows a new or rotated secret, once.
type webhookSecretData struct {
	Webhook *roster.Webhook
	Secret  string
	Rotated bool
}

func readWebhookForm(r *http.Request) (webhookForm, roster.WebhookInput) {
	_ = r.ParseForm()
	f := webhookForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: r.PostFormValue("description"),
		Events: r.PostForm["events"], Enabled: r.PostFormValue("enabled") == "on"}
	in := roster.WebhookInput{URL: roster.Some(f.URL), Events: roster.Some(f.Events), Description: roster.Some(f.Description)}
	if f.Events == nil {
		in.Events = roster.Some([]string{})
	}
	return f, in
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.renderWebhooks(w, r, p, http.StatusOK, webhookForm{Events: []string{roster.EventUserCreated}})
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, p *page, status int, f webhookForm) error {
	hooks, err := s.svc.ListWebhooks(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	p.Title, p.Section = p.T("Webhooks"), "webhooks"
	p.Data = &webhooksData{Webhooks: hooks, Events: roster.WebhookEventTypes(), Form: f}
	s.render(w, r, status, "webhooks", p)
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p *page) error {
	f, in := readWebhookForm(r)
	hook, secret, err := s.svc.CreateWebhook(r.Context(), p.Actor, in)
	if err != nil {
		status := door.StatusOf(roster.ErrorCode(err))
		if status == http.StatusInternalServerError || status == http.StatusForbidden {
			return err
		}
		p.Errors, p.Error = errorsOf(p.L, err), errorMessage(p.L, err)
		return s.renderWebhooks(w, r, p, status, f)
	}
	p.Title, p.Section, p.Data = p.T("Webhook created"), "webhooks", &webhookSecretData{Webhook: hook, Secret: secret}
	w.Header().Set("Cache-Control", "no-store") // the secret is on this page
	s.render(w, r, http.StatusCreated, "webhook_secret", p)
	return nil
}

func (s *Server) loadWebhook(r *http.Request, p *page) (*roster.Webhook, error) {
	id, err := door.PathID(r, "webhook")
	if err != nil {
		return nil, err
	}
	return s.svc.Webhook(r.Context(), p.Actor, id)
}

func (s *Server) webhookPage(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	f := webhookForm{URL: hook.URL, Description: hook.Description, Events: hook.Events, Enabled: hook.Enabled}
	return s.renderWebhook(w, r, p, http.StatusOK, hook, f)
}

func (s *Server) renderWebhook(w http.ResponseWriter, r *http.Request, p *page, status int, hook *roster.Webhook, f webhookForm) error {
	log, err := s.svc.ListWebhookDeliveries(r.Context(), p.Actor, hook.ID,
		roster.DeliveryQuery{Page: r.URL.Query().Get("page"), PerPage: "25"})
	if err != nil {
		return err
	}
	p.Title, p.Section = p.T("Webhook {{.URL}}", "URL", hook.URL), "webhooks"
	d := &webhookData{Webhook: hook, Events: roster.WebhookEventTypes(), Form: f, Deliveries: log}
	if log.Page > 1 {
		d.Newer = log.Page - 1
	}
	if log.Page*log.PerPage < log.Total {
		d.Older = log.Page + 1
	}
	p.Data = d
	s.render(w, r, status, "webhook", p)
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	f, in := readWebhookForm(r)
	in.Enabled = roster.Some(f.Enabled)
	if _, err := s.svc.UpdateWebhook(r.Context(), p.Actor, hook.ID, in); err != nil {
		status := door.StatusOf(roster.ErrorCode(err))
		if status == http.StatusInternalServerError || status == http.StatusForbidden {
			return err
		}
		p.Errors, p.Error = errorsOf(p.L, err), errorMessage(p.L, err)
		return s.renderWebhook(w, r, p, status, hook, f)
	}
	return s.redirect(w, r, fmt.Sprintf("/webhooks/%d", hook.ID), p.T("Webhook saved."))
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if _, err := s.svc.SendTestEvent(r.Context(), p.Actor, hook.ID); err != nil {
		p.Error = errorMessage(p.L, err)
		if door.StatusOf(roster.ErrorCode(err)) != http.StatusConflict {
			return err
		}
		f := webhookForm{URL: hook.URL, Description: hook.Description, Events: hook.Events, Enabled: hook.Enabled}
		return s.renderWebhook(w, r, p, http.StatusConflict, hook, f)
	}
	return s.redirect(w, r, fmt.Sprintf("/webhooks/%d", hook.ID), p.T("Test event queued: it appears in the delivery log below."))
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	hook, secret, err := s.svc.RotateWebhookSecret(r.Context(), p.Actor, hook.ID)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("New secret"), "webhooks", &webhookSecretData{Webhook: hook, Secret: secret, Rotated: true}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "webhook_secret", p)
	return nil
}

func (s *Server) deleteWebhookPage(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Delete the webhook?"), "webhooks", hook
	s.render(w, r, http.StatusOK, "webhook_delete", p)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, p *page) error {
	hook, err := s.loadWebhook(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteWebhook(r.Context(), p.Actor, hook.ID); err != nil {
		return s.refused(w, r, p, err, "webhook_delete", p.T("Delete the webhook?"), "webhooks", hook)
	}
	return s.redirect(w, r, "/webhooks", p.T("Webhook deleted: {{.URL}} gets no more events.", "URL", hook.URL))
}
