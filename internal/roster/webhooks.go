package roster

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Webhooks send the tenant's events (user.created, role.changed, ...) to the
// host platform, signed per Standard Webhooks. Managing them needs
// webhooks.manage through a tenant-wide role: a webhook sees every change of
// the tenant. The events come from the audit log's single write
//; delivery is the webhook worker's (internal/delivery).

// WebhookOptions configure webhooks.
type WebhookOptions struct {
	// SecretKey seals signing secrets at rest (--secret-key, or the data
	// folder's secret.key). Empty: a random key for this process only.
	SecretKey string
	// AllowPrivate lets webhooks reach private, loopback and link-local
	// addresses (--webhook-allow-private): for a receiver on the same host
	// or network, never for a multi-tenant service open to strangers.
	AllowPrivate bool
	// Resolver looks up webhook hosts (default net.DefaultResolver).
	Resolver Resolver
}

type webhookConfig struct {
	sealer       *sealer
	allowPrivate bool
	resolver     Resolver
	kick         atomic.Pointer[func()] // the webhook worker's wake-up
	// slugs: tenant id -> slug for payloads. A slug never changes, so an
	// entry never goes stale.
	slugs sync.Map
}

func newWebhookConfig(o WebhookOptions) *webhookConfig {
	return &webhookConfig{sealer: newSealer(o.SecretKey), allowPrivate: o.AllowPrivate, resolver: o.Resolver}
}

// WebhookRotationWindow is how long the previous secret keeps signing after
// a rotation, so receivers can switch over without losing a delivery.
const WebhookRotationWindow = 24 * time.Hour

// Bounds of webhooks.
const (
	maxWebhooksPerTenant  = 20
	maxWebhookURL         = 2000
	maxWebhookDescription = 500
)

// WebhookInput creates or (PATCH) changes a webhook.
type WebhookInput struct {
	URL         Opt[string]   `json:"url"`
	Events      Opt[[]string] `json:"events"`
	Description Opt[string]   `json:"description"`
	Enabled     Opt[bool]     `json:"enabled"`
}

// requireWebhooks guards every webhook use case.
func (s *Service) requireWebhooks(ctx context.Context, a *Actor, write bool) error {
	check := a.require
	if write {
		check = a.requireWrite
	}
	if err := check(PermWebhooksManage); err != nil {
		return err
	}
	return s.requireTenantWide(ctx, a, "webhooks (they see every change of the organisation)", PermWebhooksManage)
}

// validateWebhook checks the input onto w (a new webhook or a copy).
func (s *Service) validateWebhook(ctx context.Context, in WebhookInput, w *Webhook, creating bool) error {
	var v Validation
	if in.URL.Set || creating {
		if u := strings.TrimSpace(in.URL.V); in.URL.Null || u == "" {
			v.Add("url", "is required: the https:// address that receives the events")
		} else if msg := s.checkWebhookURL(ctx, u); msg != "" {
			v.Add("url", "%s", msg)
		} else {
			w.URL = u
		}
	}
	if in.Events.Set || creating {
		events, msg := normalizeEvents(in.Events.V)
		if msg != "" {
			v.Add("events", "%s", msg)
		}
		w.Events = events
	}
	if in.Description.Set {
		d := strings.TrimSpace(in.Description.V)
		if utf8.RuneCountInString(d) > maxWebhookDescription {
			v.Add("description", "must be at most %d characters", maxWebhookDescription)
		}
		w.Description = d
	}
	if in.Enabled.Set {
		if in.Enabled.Null {
			v.Add("enabled", "must be true or false")
		}
		w.Enabled = in.Enabled.V
	}
	return v.Err()
}

// checkWebhookURL returns why u cannot receive webhooks, or "".
func (s *Service) checkWebhookURL(ctx context.Context, u string) string {
	if len(u) > maxWebhookURL {
		return "must be at most 2000 characters"
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.Hostname() == "" {
		return "must be an absolute http:// or https:// URL, like https://platform.example.com/roster-events"
	}
	if p.User != nil {
		return "must not carry a user name or password; authenticate receivers by the signature"
	}
	if p.Fragment != "" {
		return "must not have a #fragment"
	}
	if s.hooks.allowPrivate {
		return ""
	}
	if _, err := CheckWebhookHost(ctx, s.hooks.resolver, p.Hostname()); err != nil {
		return "cannot receive webhooks: " + err.Error() + " (the operator allows those with --webhook-allow-private)"
	}
	return ""
}

// normalizeEvents checks event types and returns them sorted, without
// duplicates.
func normalizeEvents(in []string) ([]string, string) {
	if len(in) == 0 {
		return []string{}, "choose at least one event, of: " + strings.Join(WebhookEventTypes(), ", ")
	}
	var out []string
	for _, e := range in {
		e = strings.TrimSpace(e)
		if !slices.Contains(webhookEventTypes, e) {
			return []string{}, "\"" + truncate(e, 60) + "\" is not an event; use " + strings.Join(WebhookEventTypes(), ", ")
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out, ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// CreateWebhook adds a webhook and returns it with its signing secret, the
// only time the secret is shown.
func (s *Service) CreateWebhook(ctx context.Context, a *Actor, in WebhookInput) (*Webhook, string, error) {
	if err := s.requireWebhooks(ctx, a, true); err != nil {
		return nil, "", err
	}
	now := s.Now()
	w := &Webhook{TenantID: a.TenantID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.validateWebhook(ctx, in, w, true); err != nil {
		return nil, "", err
	}
	secret := newWebhookSecret()
	err := s.inTx(ctx, func(tx Tx) error {
		existing, err := tx.ListWebhooks(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if len(existing) >= maxWebhooksPerTenant {
			return Errorf(EConflict, "an organisation has at most %d webhooks; delete one first", maxWebhooksPerTenant)
		}
		if err := tx.CreateWebhook(ctx, w, &WebhookSecrets{Sealed: s.hooks.sealer.seal(a.TenantID, secret)}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook.create", "webhook", w.ID, nil, w)
	})
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// ListWebhooks lists the tenant's webhooks, oldest first.
func (s *Service) ListWebhooks(ctx context.Context, a *Actor) ([]Webhook, error) {
	if err := s.requireWebhooks(ctx, a, false); err != nil {
		return nil, err
	}
	return s.store.Read().ListWebhooks(ctx, a.TenantID)
}

// Webhook returns one webhook (never its secret).
func (s *Service) Webhook(ctx context.Context, a *Actor, id int64) (*Webhook, error) {
	if err := s.requireWebhooks(ctx, a, false); err != nil {
		return nil, err
	}
	return s.store.Read().Webhook(ctx, a.TenantID, id)
}

// UpdateWebhook changes the fields given.
func (s *Service) UpdateWebhook(ctx context.Context, a *Actor, id int64, in WebhookInput) (*Webhook, error) {
	if err := s.requireWebhooks(ctx, a, true); err != nil {
		return nil, err
	}
	// Validated before the transaction: checking the URL resolves its host,
	// which must not hold the database's write lock.
	current, err := s.store.Read().Webhook(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	valid := *current
	if err := s.validateWebhook(ctx, in, &valid, false); err != nil {
		return nil, err
	}
	var w *Webhook
	err = s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindWebhook, a.TenantID, id); err != nil {
			return err
		}
		before, err := tx.Webhook(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		c := *before
		c.Events = slices.Clone(before.Events)
		if in.URL.Set {
			c.URL = valid.URL
		}
		if in.Events.Set {
			c.Events = valid.Events
		}
		if in.Description.Set {
			c.Description = valid.Description
		}
		if in.Enabled.Set {
			c.Enabled = valid.Enabled
		}
		c.UpdatedAt = s.nextUpdate(before.UpdatedAt)
		if err := tx.UpdateWebhook(ctx, &c); err != nil {
			return err
		}
		w = &c
		return s.audit(ctx, tx, a, "webhook.update", "webhook", id, before, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes a webhook with its delivery log; pending
// deliveries are dropped.
func (s *Service) DeleteWebhook(ctx context.Context, a *Actor, id int64) error {
	if err := s.requireWebhooks(ctx, a, true); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindWebhook, a.TenantID, id); err != nil {
			return err
		}
		w, err := tx.Webhook(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook.delete", "webhook", id, w, nil)
	})
}

// RotateWebhookSecret makes a new signing secret and returns it, once. The
// previous secret keeps signing (a second signature in webhook-signature)
// for WebhookRotationWindow, so the receiver can switch over.
func (s *Service) RotateWebhookSecret(ctx context.Context, a *Actor, id int64) (*Webhook, string, error) {
	if err := s.requireWebhooks(ctx, a, true); err != nil {
		return nil, "", err
	}
	secret := newWebhookSecret()
	var w *Webhook
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindWebhook, a.TenantID, id); err != nil {
			return err
		}
		var err error
		if w, err = tx.Webhook(ctx, a.TenantID, id); err != nil {
			return err
		}
		cur, err := tx.WebhookSecretsOf(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		now := s.nextUpdate(w.UpdatedAt)
		until := now.Add(WebhookRotationWindow)
		next := &WebhookSecrets{Sealed: s.hooks.sealer.seal(a.TenantID, secret), PreviousSealed: cur.Sealed, PreviousUntil: &until}
		if err := tx.SetWebhookSecrets(ctx, a.TenantID, id, next, now); err != nil {
			return err
		}
		w.PreviousSecretUntil, w.UpdatedAt = &until, now
		return s.audit(ctx, tx, a, "webhook.rotate_secret", "webhook", id, nil, map[string]any{"previous_secret_until": until})
	})
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}
