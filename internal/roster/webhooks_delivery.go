package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The webhook worker's side of the core: claiming due deliveries with the
// secrets that sign them, recording outcomes, the delivery log and the test
// event.

// OnWebhooks registers fn to be called when deliveries were queued (the
// webhook worker's wake-up). Call it before serving.
func (s *Service) OnWebhooks(fn func()) { s.hooks.kick.Store(&fn) }

func (s *Service) notifyWebhooks() {
	if fn := s.hooks.kick.Load(); fn != nil {
		(*fn)()
	}
}

// DeliveryAttempt is a claimed delivery ready to send: the endpoint and the
// signing secrets (the current one first; the previous one during a
// rotation window).
type DeliveryAttempt struct {
	WebhookDelivery
	URL     string
	Secrets []string
	// OpenError is set when a secret could not be opened: the attempt
	// fails without sending.
	OpenError error
}

// ClaimWebhookDeliveries leases due deliveries to a worker for lease: at
// most one per webhook, none of a webhook that has one in flight.
func (s *Service) ClaimWebhookDeliveries(ctx context.Context, claim string, limit int, lease time.Duration) ([]DeliveryAttempt, error) {
	var claimed []ClaimedDelivery
	now := s.Now()
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, now, now.Add(lease), claim, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryAttempt, len(claimed))
	for i, c := range claimed {
		out[i] = DeliveryAttempt{WebhookDelivery: c.WebhookDelivery, URL: c.URL}
		secret, err := s.hooks.sealer.open(c.TenantID, c.Secrets.Sealed)
		if err != nil {
			out[i].OpenError = err
			continue
		}
		out[i].Secrets = []string{secret}
		if c.Secrets.PreviousSealed != nil && c.Secrets.PreviousUntil != nil && now.Before(*c.Secrets.PreviousUntil) {
			if prev, err := s.hooks.sealer.open(c.TenantID, c.Secrets.PreviousSealed); err == nil {
				out[i].Secrets = append(out[i].Secrets, prev)
			}
		}
	}
	return out, nil
}

// AllowPrivateWebhooks reports whether the operator allows webhooks to
// private addresses (--webhook-allow-private).
func (s *Service) AllowPrivateWebhooks() bool { return s.hooks.allowPrivate }

// AttemptOutcome is what one delivery attempt did.
type AttemptOutcome struct {
	Status       string    // DeliveryDelivered, DeliveryFailed, or DeliveryPending to retry (or to hand back)
	Retry        time.Time // the next attempt, when pending
	ResponseCode int       // 0: no HTTP answer
	Error        string
	Attempted    bool // false: handed back untried
}

// FinishWebhookDelivery records an attempt on a claimed delivery.
func (s *Service) FinishWebhookDelivery(ctx context.Context, d *WebhookDelivery, claim string, o AttemptOutcome) error {
	now := s.Now()
	d.Status, d.UpdatedAt = o.Status, now
	if o.Attempted {
		d.Attempts++
		d.LastError = truncate(o.Error, 1000)
		d.ResponseCode = nil
		if o.ResponseCode != 0 {
			code := o.ResponseCode
			d.ResponseCode = &code
		}
	}
	switch o.Status {
	case DeliveryDelivered:
		d.DeliveredAt = &now
	case DeliveryFailed:
	case DeliveryPending:
		d.NextAttemptAt = o.Retry
	default:
		return fmt.Errorf("roster: FinishWebhookDelivery: bad status %q", o.Status)
	}
	return s.inTx(ctx, func(tx Tx) error { return tx.FinishDelivery(ctx, d, claim) })
}

// webhookLogDays is how long final deliveries stay in the delivery log.
const webhookLogDays = 30

// PruneWebhookDeliveries drops final deliveries older than the log keeps.
func (s *Service) PruneWebhookDeliveries(ctx context.Context) error {
	before := s.Now().Add(-webhookLogDays * 24 * time.Hour)
	return s.inTx(ctx, func(tx Tx) error { return tx.PruneDeliveries(ctx, before) })
}

// DeliveryQuery is a delivery log request as front doors receive it.
type DeliveryQuery struct {
	Page, PerPage string
}

// ListWebhookDeliveries is a webhook's delivery log, newest first.
func (s *Service) ListWebhookDeliveries(ctx context.Context, a *Actor, webhookID int64, q DeliveryQuery) (*Page[WebhookDelivery], error) {
	if err := s.requireWebhooks(ctx, a, false); err != nil {
		return nil, err
	}
	var v Validation
	page, perPage := ParsePaging(&v, q.Page, q.PerPage)
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := s.store.Read()
	if _, err := r.Webhook(ctx, a.TenantID, webhookID); err != nil {
		return nil, err
	}
	items, total, err := r.ListDeliveries(ctx, a.TenantID, webhookID, page, perPage)
	if err != nil {
		return nil, err
	}
	return &Page[WebhookDelivery]{Items: items, Total: total, Page: page, PerPage: perPage}, nil
}

// SendTestEvent queues a webhook.test event to one webhook, whatever it
// subscribes to, and returns the delivery to follow in the log.
func (s *Service) SendTestEvent(ctx context.Context, a *Actor, webhookID int64) (*WebhookDelivery, error) {
	if err := s.requireWebhooks(ctx, a, true); err != nil {
		return nil, err
	}
	var d *WebhookDelivery
	err := s.inTx(ctx, func(tx Tx) error {
		w, err := tx.Webhook(ctx, a.TenantID, webhookID)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return Errorf(EConflict, "the webhook is disabled; enable it to send a test event")
		}
		tenant, err := s.webhookTenant(ctx, tx, a.TenantID)
		if err != nil {
			return err
		}
		now := s.Now()
		body, err := json.Marshal(WebhookPayload{Type: EventWebhookTest, Timestamp: now.Format("2006-01-02T15:04:05.000Z07:00"),
			Tenant: tenant,
			Data:   map[string]any{"webhook_id": w.ID, "message": "A test event sent by " + a.Name + " from Roster."}})
		if err != nil {
			return err
		}
		if d, err = s.enqueueDelivery(ctx, tx, a.TenantID, w.ID, EventWebhookTest, string(body)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook.test", "webhook", w.ID, nil, map[string]any{"msg_id": d.MsgID})
	})
	if err != nil {
		return nil, err
	}
	s.notifyWebhooks()
	return d, nil
}
