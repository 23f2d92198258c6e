package roster

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// Webhook event types.
const (
	EventUserCreated        = "user.created"
	EventUserUpdated        = "user.updated"
	EventUserDeactivated    = "user.deactivated"
	EventUserReactivated    = "user.reactivated"
	EventUserDeleted        = "user.deleted"
	EventUserMoved          = "user.moved"
	EventInvitationSent     = "invitation.sent"
	EventInvitationAccepted = "invitation.accepted"
	EventAgentIDsChanged    = "agent_ids.changed"
	EventRoleChanged        = "role.changed"
	EventGroupChanged       = "group.changed"
	// EventWebhookTest is sent by "send test event" only; nobody subscribes.
	EventWebhookTest = "webhook.test"
)

var webhookEventTypes = []string{
	EventUserCreated, EventUserUpdated, EventUserDeactivated, EventUserReactivated, EventUserDeleted, EventUserMoved,
	EventInvitationSent, EventInvitationAccepted, EventAgentIDsChanged, EventRoleChanged, EventGroupChanged,
}

// WebhookEventTypes lists the events a webhook may subscribe to.
func WebhookEventTypes() []string { return slices.Clone(webhookEventTypes) }

// webhookEventOf maps audit actions to the event they send. The audit log
// is written once, by Service.audit, for every change whichever door made
// it, so this table is the whole of "which change sends which event".
var webhookEventOf = map[string]string{
	"user.create":     EventUserCreated,
	"user.update":     EventUserUpdated,
	"user.deactivate": EventUserDeactivated,
	"user.reactivate": EventUserReactivated,
	"user.delete":     EventUserDeleted,
	"user.move":       EventUserMoved,
	"user.agents":     EventAgentIDsChanged,

	"invitation.create": EventInvitationSent,
	"invitation.resend": EventInvitationSent,
	"invitation.accept": EventInvitationAccepted,
	"role.create":       EventRoleChanged,
	"role.update":       EventRoleChanged,
	"role.delete":       EventRoleChanged,
	"group.create":      EventGroupChanged,
	"group.update":      EventGroupChanged,
	"group.delete":      EventGroupChanged,
}

// WebhookPayload is the body of every delivery.
type WebhookPayload struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"` // RFC 3339, when the change happened
	Tenant    WebhookTenant  `json:"tenant"`
	Data      map[string]any `json:"data"`
}

// WebhookTenant names the tenant in a payload.
type WebhookTenant struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
}

// Change is one field's move in a payload's data.changes.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// emitWebhooks queues the deliveries of an audit event in its transaction:
// nothing unless the action sends an event and an enabled webhook of the
// tenant subscribes to it (one indexed query).
func (s *Service) emitWebhooks(ctx context.Context, tx Tx, e *AuditEvent) error {
	typ, ok := webhookEventOf[e.Action]
	if !ok {
		return nil
	}
	hooks, err := tx.EnabledWebhooks(ctx, e.TenantID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	var subscribed []Webhook
	for _, h := range hooks {
		if slices.Contains(h.Events, typ) {
			subscribed = append(subscribed, h)
		}
	}
	if len(subscribed) == 0 {
		return nil
	}
	tenant, err := s.webhookTenant(ctx, tx, e.TenantID)
	if err != nil {
		return err
	}
	body, err := json.Marshal(WebhookPayload{Type: typ, Timestamp: e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Tenant: tenant, Data: eventData(e)})
	if err != nil {
		return fmt.Errorf("webhook payload of %s: %w", e.Action, err)
	}
	for _, h := range subscribed {
		if _, err := s.enqueueDelivery(ctx, tx, e.TenantID, h.ID, typ, string(body)); err != nil {
			return err
		}
	}
	s.notifyWebhooks()
	return nil
}

// webhookTenant names the tenant in payloads.
func (s *Service) webhookTenant(ctx context.Context, tx Tx, id int64) (WebhookTenant, error) {
	if slug, ok := s.hooks.slugs.Load(id); ok {
		return WebhookTenant{ID: id, Slug: slug.(string)}, nil
	}
	t, err := tx.TenantByID(ctx, id)
	if err != nil {
		return WebhookTenant{}, err
	}
	s.hooks.slugs.Store(id, t.Slug)
	return WebhookTenant{ID: id, Slug: t.Slug}, nil
}

// eventData is the resource after the change (before it, for a delete),
// with "changes": {field: {from, to}} when there was a before and an after,
// and for role.changed and group.changed "change": created, updated or
// deleted.
func eventData(e *AuditEvent) map[string]any {
	before, after := jsonObject(e.Before), jsonObject(e.After)
	data := map[string]any{}
	switch {
	case after != nil:
		data = after
	case before != nil:
		maps(data, before)
	}
	if before != nil && after != nil {
		changes := map[string]Change{}
		for k, to := range after {
			if from, ok := before[k]; k != "updated_at" && (!ok || !reflect.DeepEqual(from, to)) {
				changes[k] = Change{From: from, To: to}
			}
		}
		data["changes"] = changes
	}
	switch typ := webhookEventOf[e.Action]; typ {
	case EventRoleChanged, EventGroupChanged:
		change := "updated"
		switch {
		case before == nil:
			change = "created"
		case after == nil:
			change = "deleted"
		}
		data["change"] = change
	}
	return data
}

func maps(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}

// jsonObject decodes an audit snapshot that is a JSON object; nil otherwise.
func jsonObject(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// enqueueDelivery writes one delivery in tx. Its msg_id is random and
// stays the same on every attempt (the webhook-id header).
func (s *Service) enqueueDelivery(ctx context.Context, tx Tx, tenantID, webhookID int64, typ, body string) (*WebhookDelivery, error) {
	now := s.Now()
	d := &WebhookDelivery{TenantID: tenantID, WebhookID: webhookID, MsgID: "msg_" + rand.Text(), EventType: typ,
		Payload: body, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	return d, tx.EnqueueDelivery(ctx, d)
}
