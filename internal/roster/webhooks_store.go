package roster

import (
	"context"
	"time"
)

// Webhook is an endpoint of the host platform that receives the tenant's
// events, signed per Standard Webhooks. Its secret is never part of it: the
// sealed secrets live in WebhookSecrets.
type Webhook struct {
	ID          int64     `json:"id"`
	TenantID    int64     `json:"-"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// PreviousSecretUntil is the end of a rotation window: until then the
	// previous secret signs every delivery too.
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
}

// WebhookSecrets are a webhook's signing secrets as stored: sealed with the
// server's secret key.
type WebhookSecrets struct {
	Sealed         []byte
	PreviousSealed []byte // nil: no rotation under way
	PreviousUntil  *time.Time
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event on its way to one webhook: the delivery log.
type WebhookDelivery struct {
	ID            int64      `json:"id"`
	TenantID      int64      `json:"-"`
	WebhookID     int64      `json:"webhook_id"`
	MsgID         string     `json:"msg_id"`
	EventType     string     `json:"event_type"`
	Payload       string     `json:"payload"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	ResponseCode  *int       `json:"response_code"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

// ClaimedDelivery is a delivery leased to a worker, with what it takes to
// send it: the endpoint and the sealed secrets.
type ClaimedDelivery struct {
	WebhookDelivery
	URL     string
	Secrets WebhookSecrets
}

// WebhooksReader and WebhooksTx hold the queries of webhooks and their
// deliveries.
type WebhooksReader interface {
	Webhook(ctx context.Context, tenantID, id int64) (*Webhook, error)
	ListWebhooks(ctx context.Context, tenantID int64) ([]Webhook, error)
	WebhookSecretsOf(ctx context.Context, tenantID, id int64) (*WebhookSecrets, error)
	// EnabledWebhooks lists the tenant's enabled webhooks (one indexed
	// query: every audited change asks it).
	EnabledWebhooks(ctx context.Context, tenantID int64) ([]Webhook, error)

	ListDeliveries(ctx context.Context, tenantID, webhookID int64, page, perPage int) ([]WebhookDelivery, int, error)
}

// WebhooksTx holds the writes; a transaction has both.
type WebhooksTx interface {
	CreateWebhook(ctx context.Context, w *Webhook, s *WebhookSecrets) error
	UpdateWebhook(ctx context.Context, w *Webhook) error
	SetWebhookSecrets(ctx context.Context, tenantID, id int64, s *WebhookSecrets, at time.Time) error
	DeleteWebhook(ctx context.Context, tenantID, id int64) error

	EnqueueDelivery(ctx context.Context, d *WebhookDelivery) error
	// ClaimDeliveries leases due deliveries of enabled webhooks, at most one
	// per webhook and none of a webhook that has one in flight, so one slow
	// endpoint holds one worker lane, never the others.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]ClaimedDelivery, error)
	FinishDelivery(ctx context.Context, d *WebhookDelivery, claim string) error
	PruneDeliveries(ctx context.Context, before time.Time) error
}
