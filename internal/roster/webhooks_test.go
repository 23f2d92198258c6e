package roster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestWebhookRules: webhooks.manage must come through a tenant-wide role;
// a change queues deliveries only for its own tenant's enabled webhooks
// subscribed to its event, in its transaction (a refused change queues
// none); secrets are never in the audit log.
func TestWebhookRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{Webhooks: roster.WebhookOptions{AllowPrivate: true}})
		acme, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.CreateTenant(ctx, "globex", "Globex")
		if err != nil {
			t.Fatal(err)
		}
		sys, osys := roster.SystemActor(acme.ID), roster.SystemActor(other.ID)
		groups, _ := svc.ListGroups(ctx, sys)
		root := groups[0].ID

		// A groups-scoped role with webhooks.manage: refused.
		if _, err := svc.CreateRole(ctx, sys, roster.RoleInput{Key: roster.Some("hooks_site"), Name: roster.Some("Hooks (site)"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"webhooks.manage"})}); err != nil {
			t.Fatal(err)
		}
		u, err := svc.CreateUser(ctx, sys, roster.UserInput{Username: roster.Some("site"), Name: roster.Some("Site"), Email: roster.Some("site@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(root), Roles: roster.Some([]string{"hooks_site"}), GroupAccess: roster.Some([]int64{root})})
		if err != nil {
			t.Fatal(err)
		}
		// Activate without the invitation flow: status is set by the store.
		u.Status = roster.StatusActive
		if err := db.InTx(ctx, func(tx roster.Tx) error { return tx.UpdateUser(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		site, err := svc.ActorForUser(ctx, acme.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ListWebhooks(ctx, site); roster.ErrorCode(err) != roster.EForbidden || !strings.Contains(roster.ErrorMessage(err), "tenant scope") {
			t.Errorf("groups-scoped webhooks.manage: %v", err)
		}

		mk := func(a *roster.Actor, events ...string) *roster.Webhook {
			w, secret, err := svc.CreateWebhook(ctx, a, roster.WebhookInput{URL: roster.Some("http://127.0.0.1:9/" + events[0]), Events: roster.Some(events)})
			if err != nil || !strings.HasPrefix(secret, "whsec_") {
				t.Fatalf("create: %v", err)
			}
			return w
		}
		groupsHook := mk(sys, "group.changed")
		usersHook := mk(sys, "user.created", "user.updated")
		off := mk(sys, "group.changed")
		if _, err := svc.UpdateWebhook(ctx, sys, off.ID, roster.WebhookInput{Enabled: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		globexHook := mk(osys, "group.changed")

		if _, err := svc.CreateGroup(ctx, sys, roster.GroupInput{Name: roster.Some("Sales"), ParentID: roster.Some(root)}); err != nil {
			t.Fatal(err)
		}
		// Refused (a duplicate name): rolled back with its deliveries.
		if _, err := svc.CreateGroup(ctx, sys, roster.GroupInput{Name: roster.Some("Sales"), ParentID: roster.Some(root)}); err == nil {
			t.Fatal("a duplicate group was made")
		}
		if _, err := svc.UpdateUser(ctx, sys, u.ID, roster.UserInput{Name: roster.Some("Site Manager")}); err != nil {
			t.Fatal(err)
		}
		count := func(a *roster.Actor, w *roster.Webhook) int {
			p, err := svc.ListWebhookDeliveries(ctx, a, w.ID, roster.DeliveryQuery{})
			if err != nil {
				t.Fatal(err)
			}
			return p.Total
		}
		for _, c := range []struct {
			a    *roster.Actor
			w    *roster.Webhook
			want int
		}{{sys, groupsHook, 1}, {sys, usersHook, 1 /* user.updated; site was made before it existed */}, {sys, off, 0}, {osys, globexHook, 0}} {
			if got := count(c.a, c.w); got != c.want {
				t.Errorf("webhook %s: %d deliveries, want %d", c.w.URL, got, c.want)
			}
		}
		// Tenant isolation: another tenant's webhook is not found.
		if _, err := svc.Webhook(ctx, osys, groupsHook.ID); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("globex reads acme's webhook: %v", err)
		}
		if _, err := svc.ListWebhookDeliveries(ctx, osys, groupsHook.ID, roster.DeliveryQuery{}); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("globex reads acme's delivery log: %v", err)
		}

		_, secret, err := svc.RotateWebhookSecret(ctx, sys, usersHook.ID)
		if err != nil {
			t.Fatal(err)
		}
		events, err := svc.ListAudit(ctx, sys, roster.AuditFilter{Action: "webhook.", PerPage: 100, Page: 1})
		if err != nil || events.Total < 5 {
			t.Fatalf("audit: %v %+v", err, events)
		}
		for _, e := range events.Items {
			if strings.Contains(string(e.Before)+string(e.After), "whsec_") || strings.Contains(string(e.After), strings.TrimPrefix(secret, "whsec_")) {
				t.Errorf("%s holds a secret: %s", e.Action, e.After)
			}
		}
	})
}
