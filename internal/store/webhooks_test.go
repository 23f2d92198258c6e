package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestWebhooksMigrationGivesAdminsThePermission upgrades a database made
// before webhooks: every tenant's built-in Admin gains webhooks.manage
// (once), no other role does.
func TestWebhooksMigrationGivesAdminsThePermission(t *testing.T) {
	ctx := context.Background()
	for _, d := range []struct {
		name string
		open func(t *testing.T) *store.DB
	}{
		{"sqlite", func(t *testing.T) *store.DB {
			db, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "data"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"postgres", func(t *testing.T) *store.DB {
			dsn, drop := testdb.NewSchema(t)
			db, err := store.Open(ctx, dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close(); drop() })
			return db
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := db.MigrateBefore(ctx, "webhooks"); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO tenants (id, slug, name, settings, created_at) VALUES (1, 'old', 'Old', '{}', 0)`,
				`INSERT INTO roles (id, tenant_id, key, name, scope, permissions, builtin, created_at, updated_at)
					VALUES (1, 1, 'admin', 'Admin', 'tenant', '["users.view","authz.check"]', TRUE, 0, 0)`,
				`INSERT INTO roles (id, tenant_id, key, name, scope, permissions, builtin, created_at, updated_at)
					VALUES (2, 1, 'environment_manager', 'Environment manager', 'tenant', '["users.view"]', TRUE, 0, 0)`,
				`INSERT INTO roles (id, tenant_id, key, name, scope, permissions, builtin, created_at, updated_at)
					VALUES (3, 1, 'ops', 'Ops', 'tenant', '["users.view"]', FALSE, 0, 0)`,
			} {
				if _, err := db.SQL().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			roles, err := db.Read().ListRoles(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range roles {
				has := slices.Contains(r.Permissions, roster.PermWebhooksManage)
				if has != (r.Key == "admin") {
					t.Errorf("%s: %v", r.Key, r.Permissions)
				}
				if r.Key == "admin" && !slices.Equal(r.Permissions, []string{"users.view", "authz.check", "webhooks.manage"}) {
					t.Errorf("admin after the upgrade: %v", r.Permissions)
				}
			}
		})
	}
}

// TestClaimDeliveriesOnePerWebhook: a claim takes the oldest due delivery
// of each webhook, none of a webhook with one in flight, none of a disabled
// webhook; a finished delivery frees its webhook.
func TestClaimDeliveriesOnePerWebhook(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{Webhooks: roster.WebhookOptions{AllowPrivate: true}})
		tn, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		sys := roster.SystemActor(tn.ID)
		var hooks []*roster.Webhook
		for _, u := range []string{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "http://127.0.0.1:1/c"} {
			h, _, err := svc.CreateWebhook(ctx, sys, roster.WebhookInput{URL: roster.Some(u), Events: roster.Some([]string{"group.changed"})})
			if err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, h)
		}
		for _, h := range hooks {
			for range 2 {
				if _, err := svc.SendTestEvent(ctx, sys, h.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Disabled after its events were queued: they wait.
		if _, err := svc.UpdateWebhook(ctx, sys, hooks[2].ID, roster.WebhookInput{Enabled: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		first, err := svc.ClaimWebhookDeliveries(ctx, "c1", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 2 || first[0].WebhookID == first[1].WebhookID || len(first[0].Secrets) != 1 {
			t.Fatalf("first claim: %+v", first)
		}
		again, err := svc.ClaimWebhookDeliveries(ctx, "c2", 10, time.Minute)
		if err != nil || len(again) != 0 {
			t.Fatalf("a claim while both webhooks have one in flight: %+v %v", again, err)
		}
		if err := svc.FinishWebhookDelivery(ctx, &first[0].WebhookDelivery, "c1", roster.AttemptOutcome{Status: roster.DeliveryDelivered,
			ResponseCode: 200, Attempted: true}); err != nil {
			t.Fatal(err)
		}
		next, err := svc.ClaimWebhookDeliveries(ctx, "c3", 10, time.Minute)
		if err != nil || len(next) != 1 || next[0].WebhookID != first[0].WebhookID || next[0].ID == first[0].ID {
			t.Fatalf("after one finished: %+v %v", next, err)
		}
		// A worker that dies holding a delivery: once its lease runs out the
		// delivery is claimed again, with the same msg_id (at least once).
		if err := svc.FinishWebhookDelivery(ctx, &first[1].WebhookDelivery, "c1", roster.AttemptOutcome{Status: roster.DeliveryPending,
			Retry: time.Now().Add(-time.Second)}); err != nil { // handed back untried
			t.Fatal(err)
		}
		lost, err := svc.ClaimWebhookDeliveries(ctx, "dies", 10, 50*time.Millisecond)
		if err != nil || len(lost) != 1 || lost[0].WebhookID == next[0].WebhookID {
			t.Fatalf("claim of the other webhook: %+v %v", lost, err)
		}
		time.Sleep(100 * time.Millisecond)
		again, err = svc.ClaimWebhookDeliveries(ctx, "c4", 10, time.Minute)
		if err != nil || len(again) != 1 || again[0].ID != lost[0].ID || again[0].MsgID != lost[0].MsgID {
			t.Fatalf("after the lease ran out: %+v %v", again, err)
		}
		// Another claim's delivery cannot be finished with a wrong claim.
		if err := svc.FinishWebhookDelivery(ctx, &next[0].WebhookDelivery, "c1", roster.AttemptOutcome{Status: roster.DeliveryDelivered}); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("finish with someone else's claim: %v", err)
		}
	})
}

// TestServerKeyMadeOnce: the first caller's key is kept; later callers (other
// replicas) read it and their own candidate is dropped.
func TestServerKeyMadeOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, err := db.ServerKey(ctx, "webhook-secrets", func() string { return "key-one" })
		if err != nil || first != "key-one" {
			t.Fatalf("first: %q %v", first, err)
		}
		again, err := db.ServerKey(ctx, "webhook-secrets", func() string { return "key-two" })
		if err != nil || again != "key-one" {
			t.Fatalf("again: %q %v", again, err)
		}
	})
}
